"""Build the test targets in every flavour the process-probe tests need.

The tests compile these sources into a temporary directory (binaries are never
committed: their addresses depend on the compiler). Each variant is a name, the
compiler flags, and what to strip afterwards:

    O0          -g -O0                 prologue search, stack-slot variables
    O2          -g -O2                 location lists, inline instances, no prologue search
    nopie       -g -O0 -no-pie         ET_EXEC: fixed addresses (stap's `.absolute`)
    O2-nopie    -g -O2 -no-pie
    nodebug     -O0                    symbols only (.symtab)
    strip-debug -g -O0, strip -g       DWARF removed, .symtab kept
    stripped    -O0 -rdynamic, strip   only .dynsym (functions exported by -rdynamic)

Usage: python3 targets/build.py OUTDIR [TARGET ...]  (prints one path per line)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

TARGETS = {                      # name: (source, compiler)
    "simple": ("simple.c", "gcc"),
    "cpp": ("cpp.cc", "g++"),
}
RUN_TARGETS = {                  # built on demand by the run-time (ptrace) tests and bench only
    "loop": ("loop.c", "gcc"),
    "umem": ("umem.c", "gcc"),
    "ustack": ("ustack.c", "gcc"),
    "vars": ("vars.c", "gcc"),       # target variables ($var): every type and location kind
    "labels": ("labels.c", "gcc"),   # .label("NAME") probes: goto labels, a loop label, an inline's label
    "guru": ("guru.c", "gcc"),       # guru-mode writes to target variables ($var = v with -g)
    "cppvars": ("cppvars.cc", "g++"),   # C++ target variables: $this, references, bases, std::string
    "syscalls": ("syscalls.c", "gcc"),   # known system calls for the syscall alias decoder
}

VARIANTS = {                     # name: (flags, strip command or None)
    "O0": (["-g", "-O0"], None),
    "O2": (["-g", "-O2"], None),
    "nopie": (["-g", "-O0", "-no-pie"], None),
    "O2-nopie": (["-g", "-O2", "-no-pie"], None),
    "nodebug": (["-O0"], None),
    "strip-debug": (["-g", "-O0"], ["strip", "--strip-debug"]),
    "stripped": (["-O0", "-rdynamic"], ["strip", "--strip-all"]),
}


def available() -> bool:
    return all(shutil.which(c) for c in ("gcc", "g++", "strip"))


def build(target: str, variant: str, outdir: Path) -> Path:
    """Compile one target variant into outdir (once); returns the binary's path."""
    src, cc = TARGETS[target] if target in TARGETS else RUN_TARGETS[target]
    flags, strip = VARIANTS[variant]
    out = Path(outdir) / f"{target}-{variant}"
    if not out.exists():
        subprocess.run([cc, *flags, "-o", str(out), str(HERE / src)], check=True, capture_output=True)
        if strip:
            subprocess.run([*strip, str(out)], check=True, capture_output=True)
    return out


def build_all(outdir: Path, targets: list[str] | None = None) -> dict[tuple[str, str], Path]:
    return {(t, v): build(t, v, outdir) for t in (targets or list(TARGETS)) for v in VARIANTS}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in build_all(Path(sys.argv[1]), sys.argv[2:] or None).values():
        print(path)
