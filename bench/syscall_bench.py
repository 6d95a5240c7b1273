"""Per-call cost of system-call probes, beside strace and bpftrace.

Target: targets/getppid_loop.c (-O2), `getppid_loop N M` makes N getppid() then M getpid()
raw system calls. Cost per call = (wall(N) - wall(0)) / N, so start-up (Python, compile,
exec, attach) cancels out; median of --runs paired runs, as bench/ptrace_bench.py does.

Rows (the probed call is always getppid; "unprobed" rows make getpid calls instead while
getppid stays probed, so they show what a probe costs the calls it does not want):
  - untraced: the call itself, no tracer
  - uprobe-py `process.syscall { n++ }` (every call of the -c command stops)
  - uprobe-py `syscall.getppid { n++ }` (seccomp filter: only getppid stops)
  - uprobe-py `syscall.getppid`, unprobed getpid calls
  - uprobe-py `syscall.getppid`, the whole run under taskset -c 0 (tracer and tracee on one CPU)
  - strace -f -e trace=getppid (PTRACE_SYSCALL: every call stops twice, the unwanted ones too)
  - strace --seccomp-bpf -f -e trace=getppid (a filter like uprobe-py's; entry + exit stops)
  - strace --seccomp-bpf, unprobed getpid calls
  - bpftrace tracepoint:syscalls:sys_enter_getppid { @n = count(); } (in-kernel BPF)
The untraced, unprobed and bpftrace rows make 20x more calls (an unprobed call costs ~0.05 us, below start-up's noise
at N calls). The ratio column is each row's cost over uprobe-py `syscall.getppid`'s.

Run: python3 bench/syscall_bench.py [--calls N] [--runs N]
"""
from __future__ import annotations

import argparse
import datetime
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
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
UNPROBED_MULT = 20     # a call that does not stop costs ~0.05 us (bpftrace's ~0.1): those rows make 20x more calls,
                       # so that the difference stands above start-up's noise (tens of ms)

PROBE_ALL = 'global n probe process.syscall { n++ } probe end { printf("calls=%d\\n", n) }'
PROBE_ONE = 'global n probe syscall.getppid { n++ } probe end { printf("getppid=%d\\n", n) }'
BPF = "tracepoint:syscalls:sys_enter_getppid { @n = count(); }"


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    return time.perf_counter() - t


def per_call(make: "callable", calls: int, runs: int) -> tuple[float, float, float]:
    """(median, min, max) microseconds per call over `runs` paired runs."""
    vals = []
    for _ in range(runs):
        base = wall(make(0))
        full = wall(make(calls))
        vals.append((full - base) / calls * 1e6)
    return statistics.median(vals), min(vals), max(vals)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="syscall-bench-"))
    app = str(out / "getppid_loop")
    subprocess.run(["gcc", "-O2", "-o", app, str(ROOT / "targets" / "getppid_loop.c")], check=True)
    print(f"# syscall_bench  {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  "
          f"{platform.node()} {platform.release()} cpus={os.cpu_count()}")
    print(f"# command: {' '.join(sys.argv)}  (calls={a.calls}, runs={a.runs}, target={app})")
    py = [sys.executable, "-m", "uprobe_py"]

    def ppid(n: int) -> str:        # n getppid calls
        return f"{app} {n} 0"

    def pid(n: int) -> str:         # n getpid calls
        return f"{app} 0 {n}"

    rows: list[tuple[str, object]] = [  # rows named "untraced ..." or "..., unprobed getpid": x UNPROBED_MULT
        ("untraced getppid", lambda n: ppid(n).split()),
        ("untraced getpid", lambda n: pid(n).split()),
        ("uprobe-py process.syscall (all calls)", lambda n: py + ["-c", ppid(n), "-e", PROBE_ALL]),
        ("uprobe-py syscall.getppid", lambda n: py + ["-c", ppid(n), "-e", PROBE_ONE]),
        ("uprobe-py syscall.getppid, unprobed getpid", lambda n: py + ["-c", pid(n), "-e", PROBE_ONE]),
        ("uprobe-py syscall.getppid, taskset -c 0",
         lambda n: ["taskset", "-c", "0"] + py + ["-c", ppid(n), "-e", PROBE_ONE]),
    ]
    if shutil.which("strace"):
        rows += [
            ("strace -f -e trace=getppid",
             lambda n: ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getppid", *ppid(n).split()]),
            ("strace -f -e trace=getppid, unprobed getpid",
             lambda n: ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getppid", *pid(n).split()]),
            ("strace --seccomp-bpf -f -e trace=getppid",
             lambda n: ["strace", "--seccomp-bpf", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getppid",
                        *ppid(n).split()]),
            ("strace --seccomp-bpf, unprobed getpid",
             lambda n: ["strace", "--seccomp-bpf", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getppid",
                        *pid(n).split()]),
        ]
    else:
        print("strace: not installed")
    if not shutil.which("bpftrace"):
        print("bpftrace: not installed")
    elif not Path("/sys/kernel/tracing/events/syscalls").exists():
        print("bpftrace: tracefs not mounted (mount -t tracefs nodev /sys/kernel/tracing)")
    else:
        rows.append(("bpftrace tracepoint sys_enter_getppid", lambda n: ["bpftrace", "-e", BPF, "-c", ppid(n)]))

    for script, cmd in ((PROBE_ONE, ppid(a.calls)), (PROBE_ALL, ppid(a.calls))):
        check = subprocess.run(py + ["-c", cmd, "-e", script], capture_output=True, text=True, env=ENV)
        print(f"# check: {check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()}")
    results = []
    for name, make in rows:
        cheap = name.startswith(("untraced", "bpftrace")) or name.endswith("unprobed getpid")
        n = a.calls * (UNPROBED_MULT if cheap else 1)
        results.append((name, *per_call(make, n, a.runs)))
    ref = next(r[1] for r in results if r[0] == "uprobe-py syscall.getppid")
    print(f"{'tool':44} {'us/call (median)':>17} {'min':>7} {'max':>7} {'calls/s':>10} {'ratio':>6}")
    for name, med, lo, hi in results:
        rate = f"{1e6 / med:10.0f}" if med > 0.001 else f"{'-':>10}"   # noise can make a ~0 cost negative
        print(f"{name:44} {med:17.2f} {lo:7.2f} {hi:7.2f} {rate} {med / ref if ref > 0 else 0:6.2f}")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
