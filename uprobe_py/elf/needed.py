"""The shared libraries a dynamically linked program loads at start, as the dynamic linker finds them.

`.library("PATTERN")` probes select among "libraries statically determined to be in use by
the process" (stapprobes(3stap)). Their paths come from the program's own dynamic linker
run in list mode (`ld.so --list PROGRAM`, what ldd does: the libraries are mapped and
relocated, nothing of the program runs), so DT_NEEDED, DT_RUNPATH, LD_LIBRARY_PATH and
ld.so.cache are honoured exactly as at run time. Paths are made canonical; the vDSO
(no file) is left out; the dynamic linker itself is included, as stap includes it.
"""
from __future__ import annotations

import functools
import os
import subprocess


@functools.lru_cache(maxsize=64)
def needed_libraries(path: str) -> tuple[str, ...]:
    from .image import ElfImage, NotElf
    try:
        img = ElfImage(path)
    except (NotElf, OSError):
        return ()
    interp = img.interp
    if not interp:
        return ()
    try:
        out = subprocess.run([interp, "--list", path], capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, LC_ALL="C")).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found: list[str] = []
    for line in out.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].strip()
        else:
            target = line
        target = target.rsplit(" (", 1)[0].strip()
        if target.startswith("/") and os.path.exists(target):
            real = os.path.realpath(target)
            if real not in found:
                found.append(real)
    return tuple(found)
