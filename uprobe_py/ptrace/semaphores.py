"""SDT semaphores: the 16-bit counters a program tests before a guarded marker.

A marker built with `_SDT_HAS_SEMAPHORES` (or by dtrace -G) has a semaphore
`PROVIDER_NAME_semaphore` (unsigned short, section `.probes`) whose ELF vaddr its note
records (ProbeSpec params["semaphore"], 0 when none). While a tracer listens it raises
the counter, so `if (PROVIDER_NAME_ENABLED())` takes the marker's branch, and lowers it
when it leaves. `adjust(mem, addrs, delta)` does that through the tracee's memory
(/proc/PID/mem: `mem.read(addr, n)`, `mem.write(addr, data)`), wrapping at 16 bits.
The run-time address of a semaphore is the module's load bias plus its ELF vaddr.
"""
from __future__ import annotations

from typing import Any, Iterable


def adjust(mem: Any, addrs: Iterable[int], delta: int) -> None:
    """Add delta to each 16-bit little-endian semaphore at the run-time addresses addrs;
    an address that cannot be read or written is skipped (the program is not harmed)."""
    for addr in addrs:
        try:
            raw = mem.read(addr, 2)
            if len(raw) != 2:
                continue
            value = (int.from_bytes(raw, "little") + delta) & 0xFFFF
            mem.write(addr, value.to_bytes(2, "little"))
        except (OSError, ValueError, OverflowError):
            continue
