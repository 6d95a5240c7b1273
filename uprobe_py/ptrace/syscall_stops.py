"""System-call probes for the ptrace engine: which calls stop, and a seccomp filter for them.

Probes: `process[...].syscall` / `.syscall.return` (every call) and the `syscall.NAME`
tapset aliases (the calls their AliasSpec lists). `SyscallTable` sorts them by system
call number, entry and return, and tells which apply to a process (a `process("PATH")`
point only in processes running PATH, `process(PID)` only in PID; the rest in every
traced process).

How a call stops, without harming what is not probed:
  - the `-c` command gets, before it execs, a seccomp filter (classic BPF, `seccomp_filter`)
    returning SECCOMP_RET_TRACE for the probed numbers and ALLOW for every other call,
    with PTRACE_O_TRACESECCOMP: one stop at the entry of a probed call, none for the
    others (they run at full speed). A `.return` probe on that call resumes it with
    PTRACE_SYSCALL, which stops once more at its exit. As with `strace --seccomp-bpf`,
    the filter outlives the tracer: the command is ended with the session, as stap does.
  - processes attached with -x / process(PID) cannot be given a filter (it would make their
    probed calls fail with ENOSYS once the tracer has gone), so they are resumed with
    PTRACE_SYSCALL (a stop at each entry and exit, the calls told apart per thread).
"""
from __future__ import annotations

import struct
from typing import Any, Optional

from . import hitwait
from . import syscalls as sc
from .breakpoints import exe_path

# classic BPF, linux/filter.h + linux/seccomp.h
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_RET_K = 0x06
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_TRACE = 0x7FF00000
AUDIT_ARCH_X86_64 = 0xC000003E
MAX_LISTED = 200                      # beyond this, every call stops (jump offsets are 8-bit)

ALL = -1


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def seccomp_filter(numbers: Optional[set[int]]) -> bytes:
    """The filter program's instructions (struct sock_filter[]); None: trace every call."""
    prog = [_insn(BPF_LD_W_ABS, 0, 0, 4)]                        # seccomp_data.arch
    if numbers is None or len(numbers) > MAX_LISTED:
        prog += [_insn(BPF_JEQ_K, 0, 1, AUDIT_ARCH_X86_64),
                 _insn(BPF_RET_K, 0, 0, SECCOMP_RET_TRACE),
                 _insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)]
        return b"".join(prog)
    nrs = sorted(numbers)
    n = len(nrs)
    prog.append(_insn(BPF_JEQ_K, 0, n + 1, AUDIT_ARCH_X86_64))    # other ABIs: allow
    prog.append(_insn(BPF_LD_W_ABS, 0, 0, 0))                    # seccomp_data.nr
    for i, nr in enumerate(nrs):
        prog.append(_insn(BPF_JEQ_K, n - i, 0, nr))              # to the TRACE return
    prog.append(_insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    prog.append(_insn(BPF_RET_K, 0, 0, SECCOMP_RET_TRACE))
    return b"".join(prog)


def install_seccomp(filter_bytes: bytes) -> None:
    """In the -c child before exec: load the filter (NO_NEW_PRIVS first when not privileged)."""
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    buf = ctypes.create_string_buffer(filter_bytes, len(filter_bytes))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(filter_bytes) // 8, ctypes.addressof(buf))
    PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0)


def is_syscall_probe(p: Any) -> bool:
    return p.spec.family == "syscall" or p.spec.params.get("kind") in ("syscall", "syscall.return")


class SyscallTable:
    def __init__(self, probes: list[Any]) -> None:
        self.probes = [p for p in probes if is_syscall_probe(p)]
        self._per_process: dict[tuple[int, str], tuple[dict, dict, list, list]] = {}

    def __bool__(self) -> bool:
        return bool(self.probes)

    @staticmethod
    def _numbers(p: Any) -> Optional[tuple[int, ...]]:
        alias = p.spec.params.get("alias")
        return tuple(alias.numbers) if alias is not None else None     # None: every call

    @staticmethod
    def _is_return(p: Any) -> bool:
        alias = p.spec.params.get("alias")
        return alias.is_return if alias is not None else p.spec.params.get("kind") == "syscall.return"

    def numbers(self) -> Optional[set[int]]:
        """Every number a probe stops on; None when some probe wants every call."""
        out: set[int] = set()
        for p in self.probes:
            nrs = self._numbers(p)
            if nrs is None:
                return None
            out.update(nrs)
        return out

    def for_process(self, tgid: int, exe: str) -> tuple[dict, dict, list, list]:
        """(entry probes by number, return probes by number, entry probes on every call,
        return probes on every call) that apply to this process, declaration order."""
        key = (tgid, exe)
        got = self._per_process.get(key)
        if got is None:
            entry: dict[int, list[Any]] = {}
            ret: dict[int, list[Any]] = {}
            entry_all: list[Any] = []
            ret_all: list[Any] = []
            for p in sorted(self.probes, key=lambda p: p.index):
                prm = p.spec.params
                if prm.get("path") and prm["path"] != exe:
                    continue
                if prm.get("pid") and prm["pid"] != tgid:
                    continue
                nrs = self._numbers(p)
                if nrs is None:
                    (ret_all if self._is_return(p) else entry_all).append(p)
                else:
                    for nr in nrs:
                        (ret if self._is_return(p) else entry).setdefault(nr, []).append(p)
            got = self._per_process[key] = (entry, ret, entry_all, ret_all)
        return got

    def forget(self, tgid: int) -> None:
        for key in [k for k in self._per_process if k[0] == tgid]:
            del self._per_process[key]


class SyscallEvents:
    """The engine's system-call stops (a mixin of PtraceEngine)."""

    def _exe(self, tgid: int) -> str:
        """The process's program, read from /proc once per image (a readlink costs more than
        the rest of a system-call stop)."""
        exe = self.exes.get(tgid)
        if exe is None:
            exe = self.exes[tgid] = exe_path(tgid)
        return exe

    def _syscall_stop(self, tid: int, kind: int) -> None:
        """A seccomp stop, or a PTRACE_SYSCALL entry/exit stop, with the registers already read."""
        self.running.discard(tid)
        if tid not in self.tasks:
            self.orphans.add(tid)
        elif kind == hitwait.SECCOMP or (tid in self.sysmode and tid not in self.in_syscall):
            self._syscall_entry(tid, have_regs=True)
        elif tid in self.in_syscall:
            self._syscall_exit(tid, have_regs=True)
        else:
            self._resume(tid)

    def _syscall_probes(self, tgid: int, nr: int, is_return: bool) -> tuple[list[Any], bool]:
        """(the probes of this call, declaration order; whether its exit must stop too), per
        process and number, decided once."""
        key = (tgid, nr, is_return)
        got = self._sys_cache.get(key)
        if got is None:
            entry, ret, entry_all, ret_all = self.syscalls.for_process(tgid, self._exe(tgid))
            if is_return:
                probes = sorted(ret_all + ret.get(nr, []), key=lambda p: p.index)
            else:
                probes = sorted(entry_all + entry.get(nr, []), key=lambda p: p.index)
            got = self._sys_cache[key] = (probes, bool(ret_all) or nr in ret)
        return got

    def _syscall_entry(self, tid: int, have_regs: bool = False) -> None:
        regs = self.regs if have_regs else hitwait.getregs(tid, self.regs)
        nr = regs.orig_rax
        args = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
        tgid = self.tgid.get(tid, tid)
        probes, exit_too = self._syscall_probes(tgid, nr, False)
        if probes:
            self._fire_syscall(tid, tgid, regs, probes, (nr, args, None), False)
        if exit_too or tid in self.sysmode:
            self.in_syscall[tid] = (nr, args)    # stop again at its exit
        if not self.session.exit_requested:
            self._resume(tid)

    def _syscall_exit(self, tid: int, have_regs: bool = False) -> None:
        nr, args = self.in_syscall.pop(tid)
        regs = self.regs if have_regs else hitwait.getregs(tid, self.regs)
        tgid = self.tgid.get(tid, tid)
        probes, _ = self._syscall_probes(tgid, nr, True)
        if probes:
            rax = regs.rax
            self._fire_syscall(tid, tgid, regs, probes, (nr, args, rax - (1 << 64) if rax >> 63 else rax), True)
        if not self.session.exit_requested:
            self._resume(tid)

    def _fire_syscall(self, tid: int, tgid: int, regs: Any, probes: list[Any], call: tuple, is_return: bool) -> None:
        space = self.tasks.get(tid)
        mem = space.mem if space is not None else self.mems.get(tgid)
        if mem is None:
            try:
                mem = self.mems[tgid] = sc.Memory(tgid)
            except OSError:
                mem = None
        ctx = self.ctx
        ctx.pid, ctx.tid, ctx.regs, ctx.memory, ctx.is_return = tgid, tid, regs, mem, is_return
        ctx.extra["syscall"] = call
        fire = self.fire
        for p in probes:
            fire(p)
