"""Tracer and tracee on one CPU while the tracee's breakpoints are armed.

Every hit is a round trip: the tracee stops, the tracer wakes, runs the handler and
resumes the tracee. On this VM that costs ~5 us when both run on the same CPU, and up to
ten times more when the scheduler places them on different ones (each wake-up becomes a
cross-CPU interrupt); left alone it flips between the two at random (a stopped tracee
wakes on whichever CPU is idle, which is never the tracer's). Pinning the tracer alone
does not help, so while a single-threaded tracee is traced both are pinned to the CPU
the tracee was running on (within its own mask), and its original mask is given back
on detach, when it starts a second thread (threads must run in parallel), and to the
children it forks. Set UPROBE_PY_PIN=0 to leave affinities alone (the target then sees its own
mask throughout, at the cost of slower hits).
"""
from __future__ import annotations

import os
from typing import Optional


def enabled() -> bool:
    return os.environ.get("UPROBE_PY_PIN", "1") not in ("0", "no", "off", "")


def current_cpu(pid: int) -> Optional[int]:
    """The CPU the task last ran on (/proc/PID/stat field 39)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None


class Pinning:
    """Pins a tracee and this process to one CPU; `release()` restores both masks."""

    def __init__(self) -> None:
        self.pid = 0
        self.tracee_mask: Optional[set[int]] = None
        self.tracer_mask: Optional[set[int]] = None

    def pin(self, pid: int) -> bool:
        if not enabled() or self.tracee_mask is not None:
            return False
        try:
            mask = os.sched_getaffinity(pid)
            mine = os.sched_getaffinity(0)
        except OSError:
            return False
        cpu = current_cpu(pid)
        if cpu not in mask:
            cpu = min(mask & mine) if mask & mine else min(mask)
        if mask == {cpu} and mine == {cpu}:
            return False
        try:
            os.sched_setaffinity(pid, {cpu})
            self.pid, self.tracee_mask = pid, mask
            os.sched_setaffinity(0, {cpu})
            self.tracer_mask = mine
        except OSError:
            self.release()
            return False
        return True

    def forget(self, tid: int) -> None:
        """A task created by the pinned tracee (it inherited the narrowed mask): its own
        mask back. A new thread ends the pinning of the whole process (threads must keep
        running in parallel); a forked child is simply not pinned."""
        if self.tracee_mask is None:
            return
        try:
            os.sched_setaffinity(tid, self.tracee_mask)
        except OSError:
            pass

    def unpin_all(self, tids: list[int]) -> None:
        if self.tracee_mask is None:
            return
        for tid in tids:
            self.forget(tid)
        self.release(tracee_alive=True)

    def release(self, tracee_alive: bool = True) -> None:
        if self.tracee_mask is not None and tracee_alive:
            try:
                os.sched_setaffinity(self.pid, self.tracee_mask)
            except OSError:
                pass
        if self.tracer_mask is not None:
            try:
                os.sched_setaffinity(0, self.tracer_mask)
            except OSError:
                pass
        self.tracee_mask = self.tracer_mask = None
