"""Thin ctypes wrappers over ptrace(2) for x86_64, and the register snapshot.

Every failing call raises `PtraceError` carrying the operation, the pid and the
errno text, so a tracer error reads like `ptrace(PTRACE_SEIZE, 1234): Operation
not permitted`. Memory is read and written through /proc/PID/mem (`Memory`),
which needs no word-at-a-time PEEK/POKE and works on read-only text pages.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Optional

PTRACE_TRACEME = 0
PTRACE_CONT = 7
PTRACE_KILL = 8
PTRACE_SINGLESTEP = 9
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208

PTRACE_SYSCALL = 24
PTRACE_GETEVENTMSG = 0x4201
PTRACE_O_TRACESYSGOOD = 0x01
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_EVENT_SECCOMP = 7
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEVFORK = 0x04
PTRACE_O_TRACECLONE = 0x08
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_STOP = 128

WALL = 0x40000000              # __WALL

OPNAMES = {PTRACE_CONT: "PTRACE_CONT", PTRACE_SINGLESTEP: "PTRACE_SINGLESTEP",
           PTRACE_GETREGS: "PTRACE_GETREGS", PTRACE_SETREGS: "PTRACE_SETREGS",
           PTRACE_DETACH: "PTRACE_DETACH", PTRACE_SEIZE: "PTRACE_SEIZE",
           PTRACE_INTERRUPT: "PTRACE_INTERRUPT", PTRACE_LISTEN: "PTRACE_LISTEN",
           PTRACE_KILL: "PTRACE_KILL", PTRACE_TRACEME: "PTRACE_TRACEME",
           PTRACE_GETEVENTMSG: "PTRACE_GETEVENTMSG", PTRACE_SYSCALL: "PTRACE_SYSCALL"}

# struct user_regs_struct (x86_64, <sys/user.h>), in order
REG_NAMES = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
             "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
             "gs_base", "ds", "es", "fs", "gs")


class UserRegs(ctypes.Structure):
    """The registers as PTRACE_GETREGS gives them (unsigned 64-bit; stap's names: fn_uregs.py)."""
    _fields_ = [(n, ctypes.c_ulonglong) for n in REG_NAMES]


class PtraceError(OSError):
    def __init__(self, op: int | str, pid: int, err: int) -> None:
        self.op = OPNAMES.get(op, str(op)) if isinstance(op, int) else op
        self.pid = pid
        super().__init__(err, f"ptrace({self.op}, {pid}): {os.strerror(err)}")


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_ptrace = _libc.ptrace
_ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_ptrace.restype = ctypes.c_long


def ptrace(op: int, pid: int, addr: int = 0, data: int | object = 0) -> int:
    if not isinstance(data, int):
        data = ctypes.addressof(data)       # type: ignore[arg-type]
    r = _ptrace(op, pid, addr or None, data or None)
    if r == -1:
        err = ctypes.get_errno()
        if err:
            raise PtraceError(op, pid, err)
    return r


def seize(pid: int, options: int) -> None:
    ptrace(PTRACE_SEIZE, pid, 0, options)


def cont(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_CONT, pid, 0, sig)


PTRACE_GETSIGINFO = 0x4202


def getsiginfo_code(pid: int) -> int:
    """si_code of the signal that stopped the tracee (TRAP_TRACE after a single-step...)."""
    buf = (ctypes.c_int * 32)()
    ptrace(PTRACE_GETSIGINFO, pid, 0, buf)
    return buf[2]                         # siginfo_t: si_signo, si_errno, si_code


def syscall(pid: int, sig: int = 0) -> None:
    """PTRACE_SYSCALL: continue to the next system-call entry or exit."""
    ptrace(PTRACE_SYSCALL, pid, 0, sig)


def singlestep(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_SINGLESTEP, pid, 0, sig)


def detach(pid: int, sig: int = 0) -> None:
    ptrace(PTRACE_DETACH, pid, 0, sig)


def interrupt(pid: int) -> None:
    ptrace(PTRACE_INTERRUPT, pid)


def listen(pid: int) -> None:
    ptrace(PTRACE_LISTEN, pid)


def geteventmsg(pid: int) -> int:
    """The event's message: a new task's id (fork/vfork/clone), the former tid (exec)."""
    msg = ctypes.c_ulong()
    ptrace(PTRACE_GETEVENTMSG, pid, 0, msg)
    return msg.value


def getregs(pid: int, regs: Optional[UserRegs] = None) -> UserRegs:
    regs = regs if regs is not None else UserRegs()
    ptrace(PTRACE_GETREGS, pid, 0, regs)
    return regs


def setregs(pid: int, regs: UserRegs) -> None:
    ptrace(PTRACE_SETREGS, pid, 0, regs)


def ptrace_permitted() -> tuple[bool, str]:
    """Can this process trace its children? (fork a child, seize it, kill it)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.read(os.open("/dev/null", os.O_RDONLY), 1)
            import time
            time.sleep(5)
        finally:
            os._exit(0)
    try:
        seize(pid, PTRACE_O_EXITKILL)
        return True, ""
    except PtraceError as e:
        return False, str(e)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, WALL)


class Memory:
    """The tracee's memory through /proc/PID/mem (opened once per exec'd image)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.fd = os.open(f"/proc/{pid}/mem", os.O_RDWR | os.O_CLOEXEC)

    def read(self, addr: int, n: int) -> bytes:
        return os.pread(self.fd, n, addr)

    def write(self, addr: int, data: bytes) -> None:
        if os.pwrite(self.fd, data, addr) != len(data):
            raise OSError(5, f"short write to /proc/{self.pid}/mem at {addr:#x}")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
