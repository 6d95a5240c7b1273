"""Cold and cached DWARF indexing: uprobe-py -p2 vs stap (stap-oracle -p2), in one run.

For each target, `probe process("TARGET").function("*") { print(1) }` at -p2:
  stap      ../shared/tools/stap-oracle -p2 (real stap passes 1-2)
  cold      uprobe-py with an empty $XDG_CACHE_HOME (no on-disk index)
  cached    uprobe-py again with the index that run saved
  [pyelftools]  with --pyelftools: cold with UPROBE_PY_NO_DWARFSCAN=1 (the old DIE walk)
Targets: libpython (the running interpreter's libpython3.x.so if it carries DWARF,
else Debian's with its debug file), libc.so.6 (its /usr/lib/debug file, libc6-dbg),
and targets/simple.c built -g -O0. Medians of --runs; the outputs of every run are
checked equal (and equal to stap's probe count where stap resolves the same set).

Usage: python3 bench/dwarf_bench.py [--runs 3] [--pyelftools] [--only NAME]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORACLE = ROOT.parent / "shared" / "tools" / "stap-oracle"


def has_dwarf(path: str) -> bool:
    sys.path.insert(0, str(ROOT))
    from uprobe_py.elf.image import ElfImage, NotElf
    try:
        return ElfImage(path).dwarf_elf is not None
    except NotElf:
        return False


def targets(tmp: Path) -> list[tuple[str, str]]:
    out = []
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    ldlib = sysconfig.get_config_var("LDLIBRARY") or ""
    cands = [os.path.join(libdir, ldlib + ".1.0") if ldlib.endswith(".so") else os.path.join(libdir, ldlib),
             "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"]
    for c in cands:
        c = os.path.realpath(c)
        if os.path.isfile(c) and has_dwarf(c):
            out.append(("libpython", c))
            break
    libc = os.path.realpath("/usr/lib/x86_64-linux-gnu/libc.so.6")
    if os.path.isfile(libc) and has_dwarf(libc):
        out.append(("libc", libc))
    exe = tmp / "simple-O0"
    if shutil.which("gcc"):
        subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(ROOT / "targets" / "simple.c")], check=True)
        out.append(("simple-O0", str(exe)))
    return out


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - t, r.stdout


def probes(out: str) -> list[str]:
    return sorted(ln for ln in out.splitlines() if ln.startswith("process("))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pyelftools", action="store_true", help="also time the old pyelftools walk (slow)")
    ap.add_argument("--only")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dwarf-bench-"))
    uprobe = [sys.executable, "-m", "uprobe_py"]
    base_env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    base_env.pop("UPROBE_PY_NO_CACHE", None)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}; "
          f"medians of {args.runs} runs")
    hdr = f"{'target':<11} {'probes':>7} {'stap':>7} {'cold':>7} {'cached':>7} {'cold/stap':>9} {'cached/stap':>11}"
    if args.pyelftools:
        hdr += f" {'pyelftools':>10}"
    print(hdr)
    for name, path in targets(tmp):
        if args.only and args.only != name:
            continue
        script = ["-p2", "-e", f'probe process("{path}").function("*") {{ print(1) }}']
        stap = []
        if ORACLE.exists():
            for _ in range(args.runs):
                stap.append(timed([str(ORACLE), *script], dict(os.environ))[0])
        cold, cached, old = [], [], []
        outs = set()
        for i in range(args.runs):
            cache = tmp / f"xdg-{name}-{i}"
            env = dict(base_env, XDG_CACHE_HOME=str(cache))
            t, out = timed(uprobe + script, env)
            cold.append(t)
            outs.add(out)
            t, out = timed(uprobe + script, env)
            cached.append(t)
            outs.add(out)
        if args.pyelftools:
            for i in range(args.runs if args.runs < 2 else 1):
                env = dict(base_env, XDG_CACHE_HOME=str(tmp / f"xdg-old-{name}-{i}"), UPROBE_PY_NO_DWARFSCAN="1")
                t, out = timed(uprobe + script, env)
                old.append(t)
                outs.add(out)
        n = len(probes(next(iter(outs))))
        s = statistics.median(stap) if stap else float("nan")
        c, k = statistics.median(cold), statistics.median(cached)
        line = (f"{name:<11} {n:>7} {s:>6.2f}s {c:>6.2f}s {k:>6.2f}s {c / s:>9.2f} {k / s:>11.2f}")
        if old:
            line += f" {statistics.median(old):>9.2f}s"
        if len(outs) != 1:
            line += "  OUTPUTS DIFFER"
        print(line, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
