"""Per-hit cost of the ptrace engine (one stop per hit), beside bpftrace, ltrace and gdb.

A counting probe `process.function("tick") { n++ }` on targets/loop.c (-O2), which
calls tick() N times. Cost per hit = (wall(N) - wall(0)) / N, so start-up (Python,
compile, exec) cancels out; median of --runs runs. Rows: the default (the engine pins
tracer and a single-threaded tracee to one CPU while it is traced), UPROBE_PY_PIN=0
(no pinning: the scheduler places them), and the whole run under taskset -c 0.
bpftrace (a kernel uprobe), ltrace (-x tick) and gdb (a silent breakpoint that
continues) are timed the same way when installed, else "not installed".

Run: python3 bench/ptrace_bench.py [--hits N] [--runs N]
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("target_build", ROOT / "targets" / "build.py")
assert _spec and _spec.loader
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

SCRIPT = 'global n probe process.function("tick") { n++ } probe end { printf("hits=%d\\n", n) }'


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - t


def per_hit(make: "callable", hits: int, runs: int) -> tuple[float, float, float]:
    """(median, min, max) microseconds per hit over `runs` paired runs."""
    vals = []
    for _ in range(runs):
        base = wall(make(0))
        full = wall(make(hits))
        vals.append((full - base) / hits * 1e6)
    return statistics.median(vals), min(vals), max(vals)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hits", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="ptrace-bench-"))
    app = str(build.build("loop", "O2", out))
    print(f"# ptrace_bench  {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  "
          f"{platform.node()} {platform.release()} cpus={os.cpu_count()}")
    print(f"# command: {' '.join(sys.argv)}  (hits={a.hits}, runs={a.runs}, target={app})")
    py = [sys.executable, "-m", "uprobe_py"]
    rows = [
        ("uprobe-py (one stop, tracer+tracee pinned)", lambda n: py + ["-c", f"{app} {n}", "-e", SCRIPT]),
        ("uprobe-py, UPROBE_PY_PIN=0 (unpinned)",
         lambda n: ["env", "UPROBE_PY_PIN=0"] + py + ["-c", f"{app} {n}", "-e", SCRIPT]),
        ("uprobe-py, whole run under taskset -c 0",
         lambda n: ["taskset", "-c", "0"] + py + ["-c", f"{app} {n}", "-e", SCRIPT]),
    ]
    if shutil.which("bpftrace"):
        rows.append(("bpftrace uprobe (kernel, single-steps)",
                     lambda n: ["bpftrace", "-e", f"uprobe:{app}:tick {{ @n = count(); }}", "-c", f"{app} {n}"]))
    else:
        print("bpftrace: not installed")
    if shutil.which("ltrace"):
        rows.append(("ltrace -x tick", lambda n: ["ltrace", "-x", "tick", "-o", "/dev/null", app, str(n)]))
    else:
        print("ltrace: not installed")
    if shutil.which("gdb"):
        gdbcmds = out / "cmds.gdb"
        gdbcmds.write_text("set pagination off\nbreak tick\ncommands 1\nsilent\ncontinue\nend\nrun\nquit\n")
        rows.append(("gdb, silent breakpoint + continue",
                     lambda n: ["gdb", "-q", "-batch", "-nx", "-x", str(gdbcmds), "--args", app, str(n)]))
    else:
        print("gdb: not installed")
    check = subprocess.run(py + ["-c", f"{app} {a.hits}", "-e", SCRIPT], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    print(f"# check: {check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()}")
    print(f"{'tool':42} {'us/hit (median)':>16} {'min':>8} {'max':>8} {'hits/s':>10}")
    for name, make in rows:
        if make(0)[0] == "taskset" and not shutil.which("taskset"):
            print(f"{name:42} taskset not installed")
            continue
        med, lo, hi = per_hit(make, a.hits, a.runs)
        print(f"{name:42} {med:16.1f} {lo:8.1f} {hi:8.1f} {1e6 / med if med > 0 else 0:10.0f}")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
