"""`.insn` / `.insn.block` probes: the ptrace engine's stepping tasks (a mixin of PtraceEngine).

A task of a process that an `.insn` probe matches is always resumed with PTRACE_SINGLESTEP
(`.insn.block` alone: PTRACE_SINGLEBLOCK); each step's trap (si_code other than an int3's
SI_KERNEL) fires the probes with the registers, and breakpoint hits in between keep their
exact counts. Block-stepping needs the CPU's branch-trap flag, which a hypervisor may not
pass through (then the kernel steps single instructions): the first step shows it, and the
session ends with a clear error instead of wrong counts.
"""
from __future__ import annotations

from typing import Any

from . import hitwait
from . import syscalls as sc
from .breakpoints import exe_path

INSN_KINDS = ("insn", "insn.block")
PTRACE_SINGLEBLOCK = 33
SI_KERNEL = 0x80                         # si_code of an int3's SIGTRAP (a step's is TRAP_BRKPT/TRACE)


class Stepping:
    def _insn_matching(self, tgid: int) -> list[Any]:
        exe = self.exes.get(tgid) or exe_path(tgid)
        return [p for p in self.insn_probes if p.spec.params.get("path", exe) == exe
                and p.spec.params.get("pid", tgid) == tgid]

    def _set_stepmode(self, tid: int, tgid: int) -> None:
        probes = self._insn_matching(tgid) if self.insn_probes else []
        if not probes:
            self.stepmode.pop(tid, None)
            return
        block = all(p.spec.params["kind"] == "insn.block" for p in probes)
        self.stepmode[tid] = PTRACE_SINGLEBLOCK if block else sc.PTRACE_SINGLESTEP

    def _step_trap(self, tid: int) -> bool:
        """A trap of a stepping task: fire the .insn / .insn.block probes when it is the step's
        (not one of our int3s), and step on. False: not a step trap."""
        try:
            code = sc.getsiginfo_code(tid)
        except sc.PtraceError:
            return False
        if code == SI_KERNEL:
            return False
        tgid = self.tgid.get(tid, tid)
        kind = "insn.block" if self.stepmode[tid] == PTRACE_SINGLEBLOCK else "insn"
        if kind == "insn.block" and not self._block_step_checked(tid):
            return True
        probes = [p for p in self._insn_matching(tgid) if p.spec.params["kind"] == kind]
        if probes:
            space = self.tasks.get(tid)
            ctx = self.ctx
            saved = (ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return)
            ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = \
                tgid, tid, self.regs, space.mem if space is not None else None, True, False
            try:
                for p in probes:
                    self.fire(p)
            finally:
                ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.user_mode, ctx.is_return = saved
        if not self.session.exit_requested:
            self._resume(tid)
        return True

    def _block_step_checked(self, tid: int) -> bool:
        """Block-stepping needs the CPU's branch-trap flag (BTF); a hypervisor may not pass it
        through, and the kernel then steps single instructions. Seen once, from the first
        step: if it stopped right after an instruction that is not a branch, say so and end."""
        if self.block_ok is not None:
            return self.block_ok
        rip = hitwait.getregs(tid, self.regs).rip
        prev = self.block_prev.get(tid)
        self.block_prev[tid] = rip
        if prev is None:
            return True
        space = self.tasks.get(tid)
        mem = space.mem if space is not None else self.mems.get(self.tgid.get(tid, tid))
        try:
            if mem is None:
                mem = self.mems[self.tgid.get(tid, tid)] = sc.Memory(self.tgid.get(tid, tid))
            from .relocate import plan
            p = plan(prev, mem.read(prev, 16))
        except OSError:
            return True
        branch = p.kind in ("call", "jump", "step") or p.jcc >= 0 or p.text.startswith(("ret", "jmp", "syscall"))
        if not branch and rip == prev + p.length:
            self.block_ok = False
            self._fail("process.insn.block probes need block-stepping (the CPU's branch-trap flag, BTF), "
                       "which this CPU or virtual machine does not provide; use .insn instead")
            return False
        self.block_ok = True
        return True
