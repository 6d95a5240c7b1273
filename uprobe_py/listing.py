"""`-l PATTERN` / `-L PATTERN`: list the probe points of the families that exist so far.

The pattern is one probe point whose components may hold `*` wildcards; each
family offers the concrete points it knows (begin/end/error/never and the timer
units), printed in stap's notation, sorted. No match is a failure (exit 1).
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


def list_probes(opts: Options) -> int:
    pattern = opts.list_pattern or ""
    found = sorted({concrete(pattern, p) for p in STATIC_POINTS if _matches(pattern, p)})
    for p in found:
        sys.stdout.write(p + "\n")
    return 0 if found else 1
