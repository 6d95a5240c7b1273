"""`-p1`: print the parsed script (placeholder until the full stap-style printer lands)."""
from __future__ import annotations

from . import nodes as n


def dump_script(script: n.Script, name: str) -> str:
    out = ["# parse tree dump", f"# file {name}"]
    for g in script.globals:
        out.append(f"global {g.name}")
    for p in script.probes:
        out.append("probe " + ",".join(pt.text() for pt in p.points) + "{...}")
    for f in script.functions:
        out.append(f"function {f.name} ({', '.join(p.name for p in f.params)})")
    return "\n".join(out) + "\n"
