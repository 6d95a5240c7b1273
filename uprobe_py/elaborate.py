"""Pass 2a: probe points → resolved probes, through aliases and the family registry.

For each `probe` of the script, every probe point is matched first against probe
aliases (the script's own and those of the tapset files), whose prologue and
epilogue bodies wrap the probe's body, and then against the probe-point families
(probes/registry.py). `?` and `!` make a point optional; an unresolvable
mandatory point is stap's `semantic error: while resolving probe point`.

Output: a list of `Resolved` probes, each with its concrete point, spec, body and
condition, in script order (which is also stap's tie-break for begin/end order).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Optional

from . import nodes as n
from .diagnostics import Diagnostic
from .probes.registry import ProbeResolveError, ProbeSpec, all_family_names, find_family


@dataclass(eq=False)
class Resolved:
    index: int
    probe: n.Probe                    # the declaration it came from
    point: n.ProbePoint               # the point as written by the user
    spec: ProbeSpec
    body: n.Block
    condition: Optional[n.Expr]
    derivation: str                   # stap's `/* <- ... */` text
    locals: dict[str, object] = field(default_factory=dict)

    @property
    def pp(self) -> str:
        return self.spec.pp


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def similar(name: str, candidates: list[str], limit: int = 5) -> str:
    scored = sorted((edit_distance(name, c), c) for c in set(candidates))
    best = [c for d, c in scored if d <= max(3, len(name) // 2)][:limit]
    return f" (similar: {', '.join(best)})" if best else ""


def _alias_matches(alias: n.ProbePoint, point: n.ProbePoint) -> Optional[list[n.Component]]:
    """If `point` begins with the alias name, return the leftover suffix components."""
    ac = alias.components
    pc = point.components
    if len(pc) < len(ac):
        return None
    for a, p in zip(ac, pc):
        if not fnmatch.fnmatchcase(a.name, p.name) and a.name != p.name:
            return None
        if (a.arg is None) != (p.arg is None):
            return None
        if a.arg is not None and p.arg is not None and a.arg.value != p.arg.value:
            return None
    return pc[len(ac):]


class Elaborator:
    def __init__(self, aliases: list[n.ProbeAlias]) -> None:
        self.aliases = aliases
        self.errors: list[Diagnostic] = []
        self.resolved: list[Resolved] = []

    def elaborate(self, probes: list[n.Probe]) -> list[Resolved]:
        for probe in probes:
            derivation = ",".join(p.text() for p in probe.points)
            sufficient_hit = False
            for point in probe.points:
                if sufficient_hit:
                    break
                found = self.resolve_point(probe, point, probe.body, derivation, depth=0)
                if found and point.sufficient:
                    sufficient_hit = True
        return self.resolved

    def resolve_point(self, probe: n.Probe, point: n.ProbePoint, body: n.Block,
                      derivation: str, depth: int, condition: Optional[n.Expr] = None) -> bool:
        cond = point.condition or condition
        # 1. aliases
        for alias in self.aliases:
            for name in alias.names:
                suffix = _alias_matches(name, point)
                if suffix is None:
                    continue
                if depth > 20:
                    self.errors.append(Diagnostic("semantic error", "recursive probe alias", point.tok))
                    return False
                if alias.epilogue:
                    merged = n.Block(body.tok, [body, alias.body])
                else:
                    stmts: list[n.Stmt] = [alias.body, body]
                    if alias.epilogue_body is not None:
                        stmts.append(alias.epilogue_body)
                    merged = n.Block(body.tok, stmts)
                ok = False
                for target in alias.points:
                    expanded = n.ProbePoint(target.tok, target.components + suffix,
                                            target.optional or point.optional,
                                            target.sufficient, target.condition)
                    ok = self.resolve_point(probe, expanded, merged, derivation, depth + 1, cond) or ok
                if ok:
                    return True
        # 2. families
        first = point.components[0]
        if any(c in first.name for c in "*?[") and depth < 20:
            # a wildcard first component: every family whose name matches, as stap expands it
            matched = False
            for name in all_family_names():
                if fnmatch.fnmatchcase(name, first.name):
                    concrete = n.ProbePoint(point.tok, [n.Component(first.tok, name, first.arg)]
                                            + point.components[1:], True, point.sufficient, point.condition)
                    matched = self.resolve_point(probe, concrete, body, derivation, depth + 1, cond) or matched
            if matched:
                return True
        family = find_family(first.name)
        if family is None:
            if point.optional:
                return False
            self.errors.append(Diagnostic("semantic error", "while resolving probe point", first.tok))
            names = all_family_names() + [a.components[0].name for al in self.aliases for a in al.names]
            wild = ": didn't find any wildcard matches" if "*" in first.name else ""
            self.errors.append(Diagnostic("semantic error", "probe point mismatch" + wild +
                                          similar(first.name.replace("*", ""), names), first.tok))
            return False
        try:
            specs = family.resolve(point.components, first.tok)
        except ProbeResolveError as e:
            if point.optional:
                return False
            for msg in e.before:
                self.errors.append(Diagnostic("semantic error", msg, anchor=first.tok))
            self.errors.append(Diagnostic("semantic error", "while resolving probe point", first.tok))
            self.errors.append(Diagnostic("semantic error", e.msg, e.tok))
            return False
        for spec in specs:
            # a family that pre-binds locals (syscall aliases) gets a body per spec, as an alias would
            own = n.Block(body.tok, [body]) if spec.params.get("own_body") else body
            self.resolved.append(Resolved(len(self.resolved), probe, point, spec, own, cond, derivation))
        return True


def elaborate(probes: list[n.Probe], aliases: list[n.ProbeAlias]) -> tuple[list[Resolved], list[Diagnostic]]:
    e = Elaborator(aliases)
    resolved = e.elaborate(probes)
    return resolved, e.errors
