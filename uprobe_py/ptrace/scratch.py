"""Scratch pages inside a tracee: where displaced instructions run out of line.

A page is mapped in the tracee by making it call mmap(2) itself: while it is stopped,
its registers are saved, rip is pointed at a `mov $SYS_mmap,%eax; syscall; int3` stub
with the mmap arguments in the registers, and it is continued until the int3 (the
number is in the stub because at the exec stop the kernel still writes execve's result
into rax on the way out); then the registers
(and any bytes borrowed for the stub) are put back. The first area is made at the
exec stop, where the stub borrows three bytes at the stopped rip (the process has one
thread there); its first bytes then hold a permanent stub for later areas.

Areas are placed in a free gap of /proc/PID/maps close to the code they serve, below
it when possible (above a binary lies the brk heap, which must stay free to grow), so
a slot is within a rel32 of the RIP-relative data its instruction refers to. The pages
are never unmapped: a thread of the target may be inside a slot when the tracer
detaches, and the slot's jump back to the original code stays valid.
"""
from __future__ import annotations

import os
import signal
from typing import Callable, Optional

from . import syscalls as sc

AREA_SIZE = 64 * 1024
REACH = (1 << 31) - AREA_SIZE - (1 << 20)     # a rel32 from anywhere in the area, with margin
STUB = b"\xb8\x09\x00\x00\x00\x0f\x05\xcc"   # mov $9 (mmap), %eax; syscall; int3
STUB_SIZE = 16
MMAP_MIN_ADDR = 0x10000

SYS_MMAP = 9
PROT_READ, PROT_EXEC = 1, 4
MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE = 0x02, 0x20, 0x100000


def free_gaps(pid: int) -> list[tuple[int, int]]:
    """The unmapped [start, end) ranges between the process's mappings (user half only)."""
    spans: list[tuple[int, int]] = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            lo, hi = line.split(None, 1)[0].split("-", 1)
            spans.append((int(lo, 16), int(hi, 16)))
    spans.sort()
    gaps, prev = [], MMAP_MIN_ADDR
    for lo, hi in spans:
        if lo > prev:
            gaps.append((prev, lo))
        prev = max(prev, hi)
    gaps.append((prev, 0x7FFFFFFFF000))
    return gaps


def placement(pid: int, near: int, size: int) -> Optional[int]:
    """Where to map `size` bytes within rel32 reach of `near`: the top of the closest free
    gap below it, else well above it (past the room a heap needs)."""
    below = [(lo, hi) for lo, hi in free_gaps(pid) if hi <= near and hi - lo >= size]
    for lo, hi in sorted(below, key=lambda g: -g[1]):
        start = (hi - size) & ~0xFFF
        if start >= lo and near - start <= REACH:
            return start
    for lo, hi in free_gaps(pid):
        start = max(lo, near + (256 << 20)) & ~0xFFF
        if lo >= near and start + size <= hi and start - near <= REACH:
            return start
    return None


class ScratchError(Exception):
    pass


class Scratch:
    """The scratch areas of one tracee image and their slots."""

    def __init__(self, pid: int, mem: sc.Memory, wait_trap: Callable[[int], Optional[int]]) -> None:
        self.pid = pid
        self.mem = mem
        self.wait_trap = wait_trap          # waits for a thread's next SIGTRAP stop; None if it died
        self.areas: list[list[int]] = []    # [start, end, next free]
        self.stub = 0                       # address of the permanent `syscall; int3`

    def slot(self, near: int, size: int, tid: int) -> Optional[int]:
        """A fresh slot of `size` bytes within rel32 reach of `near`; an area is mapped if
        needed, by making thread `tid` (stopped) call mmap."""
        for area in self.areas:
            start, end, free = area
            if free + size <= end and abs(near - start) <= REACH:
                area[2] = free + size
                return free
        area = self._new_area(near, tid)
        if area is None:
            return None
        area[2] += size
        return area[2] - size

    def _new_area(self, near: int, tid: int) -> Optional[list[int]]:
        where = placement(self.pid, near, AREA_SIZE)
        if where is None:
            return None
        got = self.inject_mmap(where, AREA_SIZE, tid)
        if got != where:
            return None
        area = [got, got + AREA_SIZE, got]
        if not self.stub:
            self.mem.write(got, STUB)
            self.stub = got
            area[2] = got + STUB_SIZE
        self.areas.append(area)
        return area

    def inject_mmap(self, where: int, size: int, tid: int) -> int:
        """Make the stopped thread `tid` map `size` bytes r-x at `where`; the result (or -errno).
        The first area borrows bytes at its rip: only done while no other thread runs (at
        the exec stop, or with every thread of an attached process stopped)."""
        regs = sc.getregs(tid)
        saved = sc.UserRegs.from_buffer_copy(regs)
        borrowed: Optional[bytes] = None
        stub = self.stub
        if not stub:                        # the first area: borrow the bytes at rip
            stub = regs.rip
            borrowed = self.mem.read(stub, len(STUB))
            if len(borrowed) != len(STUB):
                raise ScratchError(f"cannot read the tracee's code at {stub:#x}")
            self.mem.write(stub, STUB)
        try:
            regs.rip = stub
            regs.rax = SYS_MMAP
            regs.orig_rax = (1 << 64) - 1   # not in a system call: no restart logic on resume
            regs.rdi = where
            regs.rsi = size
            regs.rdx = PROT_READ | PROT_EXEC
            regs.r10 = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
            regs.r8 = (1 << 64) - 1
            regs.r9 = 0
            sc.setregs(tid, regs)
            sc.cont(tid)
            if self.wait_trap(tid) is None:
                raise ScratchError("the process ended while a scratch page was mapped into it")
            after = sc.getregs(tid)
            if after.rip != stub + len(STUB):
                raise ScratchError(f"unexpected stop at {after.rip:#x} while mapping a scratch page")
            result = after.rax
            return result - (1 << 64) if result >> 63 else result
        finally:
            if borrowed is not None:
                try:
                    self.mem.write(stub, borrowed)
                except OSError:
                    pass
            try:
                sc.setregs(tid, saved)
            except sc.PtraceError:
                pass


def is_trap(status: int) -> bool:
    return os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGTRAP and status >> 16 == 0
