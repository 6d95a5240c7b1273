"""The two calls of a hit: wait for the tracee's next stop, and resume it with new registers.

`wait(pid, timeout_ns)` returns (kind, status, pid) and, for a SIGTRAP stop, has read the
registers into `REGS`; `resume(pid, REGS, sig)` writes them back and continues. They come
from the C extension built at install time (uprobe_py/_native/hitloop.c: SIGCHLD waited
for with sigtimedwait, so a hit costs no signal handler and no Python-level wake-up); when
the extension is missing (running from a source tree without `pip install`), the same
calls are made from Python, slower. `REGS` is one register block reused for every hit;
its fields have the names of struct user_regs_struct.
"""
from __future__ import annotations

import os
import signal
import struct
from functools import partial
from typing import Any

from . import syscalls as sc

TIMEOUT, TRAP, STOP, INTR, NOCHILD, SECCOMP, SYSCALL, RESUME_FAILED = 0, 1, 2, 3, 4, 5, 6, 7

try:
    from .._native._hitloop import ffi as _ffi, lib as _lib    # type: ignore[import-not-found]
except ImportError:                                             # pragma: no cover - no build
    _ffi = _lib = None

NATIVE = _lib is not None


def new_regs() -> Any:
    return _ffi.new("struct user_regs_struct *") if NATIVE else sc.UserRegs()


REGS = new_regs()

if NATIVE:
    _status = _ffi.new("int *")
    _who = _ffi.new("int *")

    def wait(pid: int, timeout_ns: int, regs: Any = REGS) -> tuple[int, int, int]:
        kind = _lib.up_wait(pid, timeout_ns, regs, _status, _who)
        return kind, _status[0], _who[0]

    def resume(pid: int, regs: Any = REGS, sig: int = 0) -> None:
        r = _lib.up_resume(pid, regs, sig)
        if r:
            raise sc.PtraceError("PTRACE_CONT", pid, -r)

    resume_fast = _lib.up_resume        # (tid, regs, sig=0) -> 0 or -errno, no exception
    restart = _lib.up_restart           # (tid, request, sig) -> 0 or -errno: CONT, SYSCALL, SINGLESTEP...
    up_wait = _lib.up_wait              # the raw calls, for the engine's fast loop
    up_wait_blocking = _lib.up_wait_blocking
    up_next = _lib.up_next              # (tid, request, setregs, regs, status, who): restart + blocking wait
    status_p, who_p = _status, _who
    # a system-call stop's arguments as one tuple (rdi rsi rdx r10 r8 r9), read from C's copy
    sysargs = partial(struct.Struct("6Q").unpack_from, _ffi.buffer(_lib.up_sysargs))

    def getregs(pid: int, regs: Any = REGS) -> Any:
        r = _lib.up_getregs(pid, regs)
        if r:
            raise sc.PtraceError("PTRACE_GETREGS", pid, -r)
        return regs

    def setregs(pid: int, regs: Any = REGS) -> None:
        r = _lib.up_setregs(pid, regs)
        if r:
            raise sc.PtraceError("PTRACE_SETREGS", pid, -r)

    def copy_regs(regs: Any) -> Any:
        new = _ffi.new("struct user_regs_struct *")
        new[0] = regs[0]
        return new
else:
    _CHLD = {signal.SIGCHLD}

    def wait(pid: int, timeout_ns: int, regs: Any = REGS) -> tuple[int, int, int]:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _CHLD)
        try:
            while True:
                try:
                    who, st = os.waitpid(pid, os.WNOHANG | sc.WALL)
                except ChildProcessError:
                    return NOCHILD, 0, 0
                except InterruptedError:
                    return INTR, 0, 0
                if who:
                    kind = STOP
                    if os.WIFSTOPPED(st):
                        sig, event = os.WSTOPSIG(st), st >> 16
                        kind = TRAP if sig == signal.SIGTRAP and not event else SECCOMP if event == 7 else \
                            SYSCALL if sig == signal.SIGTRAP | 0x80 and not event else STOP
                    if kind != STOP:
                        try:
                            sc.getregs(who, regs)
                        except sc.PtraceError:
                            kind = STOP
                    return kind, st, who
                if timeout_ns == 0:
                    return TIMEOUT, 0, 0
                got = signal.sigtimedwait(_CHLD, timeout_ns / 1e9 if timeout_ns > 0 else 1e9)
                if got is None and timeout_ns > 0:
                    return TIMEOUT, 0, 0
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def resume(pid: int, regs: Any = REGS, sig: int = 0) -> None:
        sc.setregs(pid, regs)
        sc.cont(pid, sig)

    def restart(pid: int, request: int, sig: int) -> int:
        try:
            sc.ptrace(request, pid, 0, sig)
        except sc.PtraceError as e:
            return -(e.errno or 1)
        return 0

    def resume_fast(pid: int, regs: Any, sig: int = 0) -> int:
        try:
            resume(pid, regs, sig)
        except sc.PtraceError as e:
            return -(e.errno or 1)
        return 0

    def getregs(pid: int, regs: Any = REGS) -> Any:
        return sc.getregs(pid, regs)

    def setregs(pid: int, regs: Any = REGS) -> None:
        sc.setregs(pid, regs)

    def copy_regs(regs: Any) -> Any:
        return sc.UserRegs.from_buffer_copy(regs)
