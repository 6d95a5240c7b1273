"""`-l PATTERN` / `-L PATTERN`: list the probe points of the families that exist so far.

The pattern is one probe point whose components may hold `*` wildcards; each
family offers the concrete points it knows (begin/end/error/never and the timer
units), printed in stap's notation, sorted. `process(...)` patterns are resolved
against the binary as pass 2 resolves them; `-L` adds each point's context
variables (`$a:int $p:struct point*`). No match is a failure (exit 1).
"""
from __future__ import annotations

import fnmatch
import sys

from .options import Options

STATIC_POINTS = ["begin", "end", "error", "never",
                 "timer.hz(NUMBER)", "timer.jiffies(NUMBER)", "timer.jiffies(NUMBER).randomize(NUMBER)",
                 "timer.ms(NUMBER)", "timer.ms(NUMBER).randomize(NUMBER)",
                 "timer.ns(NUMBER)", "timer.ns(NUMBER).randomize(NUMBER)",
                 "timer.s(NUMBER)", "timer.s(NUMBER).randomize(NUMBER)",
                 "timer.sec(NUMBER)", "timer.sec(NUMBER).randomize(NUMBER)",
                 "timer.us(NUMBER)", "timer.us(NUMBER).randomize(NUMBER)"]


def _matches(pattern: str, point: str) -> bool:
    pc = pattern.split(".")
    qc = point.split(".")
    if pc and pc[-1] == "**":
        return fnmatch.fnmatchcase(".".join(qc[: len(pc) - 1]), ".".join(pc[:-1])) if len(qc) >= len(pc) - 1 else False
    if len(pc) != len(qc):
        return False
    for p, q in zip(pc, qc):
        qname = q.split("(")[0]
        pname, _, parg = p.partition("(")
        if not fnmatch.fnmatchcase(qname, pname):
            return False
    return True


def concrete(pattern: str, point: str) -> str:
    """Fill the pattern's numbers into `NUMBER` slots: -l 'timer.ms(100)' lists timer.ms(100)."""
    pc = pattern.split(".")
    qc = point.split(".")
    out = []
    for p, q in zip(pc, qc):
        if "(NUMBER)" in q and "(" in p:
            out.append(q.replace("NUMBER", p.split("(", 1)[1].rstrip(")")))
        else:
            out.append(q)
    return ".".join(out)


def process_points(opts: Options, pattern: str) -> list[str]:
    """`-l`/`-L` for process(...) points: resolve as pass 2 does, print pp (and `$var:type`s)."""
    from .frontend import parse_script_source
    from .preprocess import Environment
    from .probes.process import probe_vars, set_target_command
    from .probes.registry import ProbeResolveError, find_family
    from .source import Source
    script, diags = parse_script_source(Source("<input>", f"probe {pattern} {{}}"), Environment(), [])
    family = find_family("process")
    if diags or not script.probes or family is None:
        return []
    set_target_command(opts.target_cmd)
    groups: dict[str, list[list[str]]] = {}        # stap lists a point once, with the
    for point in script.probes[0].points:          # variables all its probes share
        try:
            specs = family.resolve(point.components, point.components[0].tok)
        except ProbeResolveError:
            continue
        for spec in specs:
            groups.setdefault(spec.params.get("list_pp", spec.pp), []).append(
                probe_vars(spec) if opts.list_vars else [])
    out = []
    for pp, arg_lists in groups.items():
        shared = [a for a in arg_lists[0] if all(a in other for other in arg_lists[1:])]
        out.append(" ".join([pp] + shared))
    return out


def list_probes(opts: Options) -> int:
    pattern = opts.list_pattern or ""
    if pattern.startswith("process"):
        found = sorted(set(process_points(opts, pattern)))
    else:
        found = sorted({concrete(pattern, p) for p in STATIC_POINTS if _matches(pattern, p)})
    for p in found:
        sys.stdout.write(p + "\n")
    return 0 if found else 1
