"""int3 breakpoints in one tracee: where each probe lands, and the bytes it displaced.

A probe's run-time address is its ELF vaddr for a fixed (ET_EXEC) binary, and the
binary's lowest mapping in /proc/PID/maps plus the probe's `offset` (relative to
the page-aligned first PT_LOAD, as process.py computes it) for a relocatable one.
Several probes on one address share one int3; `probes[addr]` gives them in
declaration order. Inserting keeps the original byte; removing restores it. A
`.return` probe's int3 is at the function's entry like an entry probe's; the
return sites the engine adds at run time (`add`/`remove`) share `saved` with them.
"""
from __future__ import annotations

import os
import struct
from typing import Any, Optional

from .syscalls import Memory

INT3 = b"\xcc"
AT_ENTRY = 9


def load_base(pid: int, path: str) -> Optional[int]:
    """The lowest start address of `path`'s mappings in the process, None if unmapped."""
    real = os.path.realpath(path)
    best: Optional[int] = None
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                name = parts[5].rstrip("\n")
                if name.endswith(" (deleted)"):
                    name = name[:-10]
                if name != path and name != real:
                    continue
                start = int(parts[0].split("-", 1)[0], 16)
                if best is None or start < best:
                    best = start
    except OSError:
        return None
    return best


def executable_ranges(pid: int) -> list[tuple[int, int]]:
    """The [start, end) ranges of the process's executable mappings."""
    out: list[tuple[int, int]] = []
    try:
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                parts = line.split(None, 2)
                if len(parts) >= 2 and "x" in parts[1]:
                    lo, hi = parts[0].split("-", 1)
                    out.append((int(lo, 16), int(hi, 16)))
    except OSError:
        pass
    return out


def auxv_entry(pid: int) -> int:
    """The program's entry point (AT_ENTRY of /proc/PID/auxv), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/auxv", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    for i in range(0, len(data) - 15, 16):
        key, value = struct.unpack_from("<QQ", data, i)
        if key == AT_ENTRY:
            return value
    return 0


def exe_path(pid: int) -> str:
    try:
        return os.path.realpath(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return ""


class Breakpoints:
    """The int3s placed in one process image."""

    def __init__(self, mem: Memory) -> None:
        self.mem = mem
        self.probes: dict[int, list[Any]] = {}      # run-time address -> probes, declaration order
        self.saved: dict[int, bytes] = {}            # address -> original byte (while inserted)
        self.module: dict[int, tuple[str, int]] = {} # address -> (binary path, run-time - ELF vaddr)

    def plan(self, pid: int, probes: list[Any]) -> list[str]:
        """Compute the addresses of the probes whose binary is mapped; returns the paths not mapped."""
        bases: dict[str, Optional[int]] = {}
        missing: list[str] = []
        for p in sorted(probes, key=lambda p: p.index):
            prm = p.spec.params
            path = prm["path"]
            if path not in bases:
                bases[path] = load_base(pid, path)
                if bases[path] is None:
                    missing.append(path)
            base = bases[path]
            if base is None:
                continue
            addr = base + prm["offset"] if prm.get("relocatable") else prm["addr"]
            self.probes.setdefault(addr, []).append(p)
            self.module[addr] = (path, addr - prm["addr"])
        return missing

    def insert_all(self) -> None:
        for addr in self.probes:
            if addr not in self.saved:
                orig = self.mem.read(addr, 1)
                if len(orig) != 1:
                    raise OSError(14, f"cannot read the probe address {addr:#x}")
                self.mem.write(addr, INT3)
                self.saved[addr] = orig

    def remove_all(self) -> None:
        for addr, orig in list(self.saved.items()):
            try:
                self.mem.write(addr, orig)
            except OSError:          # unmapped meanwhile (a dlclose()d library): nothing to restore
                pass
            del self.saved[addr]

    def add(self, addr: int) -> bool:
        """An int3 at `addr` (a return site) unless one is there already; False if unreadable."""
        if addr in self.saved:
            return True
        orig = self.mem.read(addr, 1)
        if len(orig) != 1:
            return False
        self.mem.write(addr, INT3)
        self.saved[addr] = orig
        return True

    def remove(self, addr: int) -> None:
        """The original byte back at `addr` (a return site no pending return needs any more)."""
        orig = self.saved.pop(addr, None)
        if orig is not None:
            self.mem.write(addr, orig)

    def lift(self, addr: int) -> None:
        """Put the original byte back for a step over it (the int3 stays planned)."""
        self.mem.write(addr, self.saved[addr])

    def rearm(self, addr: int) -> None:
        self.mem.write(addr, INT3)
