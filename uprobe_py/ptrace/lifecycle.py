"""`process[...].begin`, `.end`, `.thread.begin`, `.thread.end` for the ptrace engine.

stapprobes(3stap): a process.begin probe is called when a process described by PID or
FULLPATH is created, and once for each such process already running when the script
starts; thread.begin when a new thread is created; .end / .thread.end when it dies.
Here "created" is what the tracer sees: a traced process exec'ing the program, a traced
process forking (the child runs the same program), and each process attached with -x
or process(PID); the bare `process.begin` covers every traced process. The engine calls
`matching(kind, tgid, exe)` at those events and fires the probes in the new (or dying)
task's context.
"""
from __future__ import annotations

from typing import Any

from .breakpoints import exe_path

KINDS = ("begin", "end", "thread.begin", "thread.end")


def is_lifecycle_probe(p: Any) -> bool:
    return p.spec.params.get("kind") in KINDS


class LifecycleTable:
    def __init__(self, probes: list[Any]) -> None:
        self.probes = sorted((p for p in probes if is_lifecycle_probe(p)), key=lambda p: p.index)

    def __bool__(self) -> bool:
        return bool(self.probes)

    def matching(self, kind: str, tgid: int, exe: str) -> list[Any]:
        out = []
        for p in self.probes:
            prm = p.spec.params
            if prm["kind"] != kind:
                continue
            if prm.get("path") and prm["path"] != exe:
                continue
            if prm.get("pid") and prm["pid"] != tgid:
                continue
            out.append(p)
        return out


class LifecycleEvents:
    """The engine's firing of these probes (a mixin of PtraceEngine)."""

    def _fire_life(self, kind: str, tgid: int, tid: int) -> None:
        if not self.life:
            return
        probes = self.life.matching(kind, tgid, self.exes.get(tgid) or exe_path(tgid))
        if not probes:
            return
        ctx = self.ctx
        saved = (ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return)
        ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = tgid, tid, None, None, True, False
        try:
            for p in probes:
                self.fire(p)
        finally:
            ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = saved
