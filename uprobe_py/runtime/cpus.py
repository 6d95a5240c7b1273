"""The machine's online CPUs, as the kernel lists them (`/sys/devices/system/cpu/online`)."""
from __future__ import annotations

import os


def online_cpus() -> list[int]:
    """The online CPU numbers in the kernel's order ("0-3,6" is 0, 1, 2, 3, 6); every CPU
    os.cpu_count() knows of when the list cannot be read."""
    try:
        with open("/sys/devices/system/cpu/online") as f:
            text = f.read().strip()
        cpus: list[int] = []
        for part in text.split(","):
            if "-" in part:
                lo, hi = part.split("-")
                cpus.extend(range(int(lo), int(hi) + 1))
            elif part:
                cpus.append(int(part))
        return cpus
    except (OSError, ValueError):
        return list(range(os.cpu_count() or 1))
