"""Handler cost and start-up time, against hand-written Python.

1. A typical handler body — increment an array element under a string key, and
   add a value to a statistics aggregate — compiled by uprobe-py and called
   10^6 times, beside the same logic written by hand in Python using the same
   runtime objects (dict, Stat) and the same built-ins. Goal: ratio <= 1.5.
2. Wall time of `uprobe-py -e 'probe begin { exit() }'` from exec to exit,
   median of N runs. Goal: <= 150 ms.

Run: python3 bench/handler_bench.py [--hits N] [--runs N]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from uprobe_py.builtins.registry import find_builtin  # noqa: E402
from uprobe_py.driver import compile_script  # noqa: E402
from uprobe_py.options import Options  # noqa: E402
from uprobe_py.program import load  # noqa: E402
from uprobe_py.runtime.context import Context  # noqa: E402
from uprobe_py.runtime.stats import Stat  # noqa: E402

SCRIPT = "global counts, lat probe timer.ms(1) { counts[pp()]++; lat <<< tid() }"


def generated_handler() -> tuple[object, object]:
    opts = Options(script_name="<bench>", script_text=SCRIPT)
    compiled = compile_script(opts)
    out: list[str] = []
    prog = load(compiled.generated, opts, out.append)  # type: ignore[arg-type]
    return prog.handlers[0], prog.namespace


def hand_written() -> object:
    pp = find_builtin("pp", 0).impl  # type: ignore[union-attr]
    tid = find_builtin("tid", 0).impl  # type: ignore[union-attr]
    counts: dict[str, int] = {}
    lat = Stat()

    def handler(c: object) -> None:
        k = pp(c)
        counts[k] = counts.get(k, 0) + 1
        lat.add(tid(c))
    return handler


def time_calls(fn: object, c: object, hits: int) -> float:
    t0 = time.perf_counter()
    for _ in range(hits):
        fn(c)  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hits", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    gen, ns = generated_handler()
    hand = hand_written()
    c = Context(None)
    c.pp = "timer.ms(1)"
    rounds_gen, rounds_hand = [], []
    for _ in range(5):   # interleaved rounds, medians: this VM is noisy
        rounds_gen.append(time_calls(gen, c, a.hits))
        rounds_hand.append(time_calls(hand, c, a.hits))
    g, h = statistics.median(rounds_gen), statistics.median(rounds_hand)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"handler body: {SCRIPT}")
    print(f"  generated:    {g / a.hits * 1e9:7.0f} ns/hit  ({a.hits} hits, median of 5)")
    print(f"  hand-written: {h / a.hits * 1e9:7.0f} ns/hit")
    print(f"  ratio generated/hand-written: {g / h:.2f}  (goal <= 1.5)")
    script = os.path.join(os.path.dirname(sys.executable), "uprobe-py")   # the installed console script
    commands = [("python3 -c pass (interpreter alone)", [sys.executable, "-c", "pass"]),
                ("python3 -m uprobe_py -e 'probe begin { exit() }'",
                 [sys.executable, "-m", "uprobe_py", "-e", "probe begin { exit() }"])]
    if os.path.exists(script):
        commands.append(("uprobe-py -e 'probe begin { exit() }'", [script, "-e", "probe begin { exit() }"]))
    for label, cmd in commands:
        times = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            times.append(time.perf_counter() - t0)
        print(f"start-up: {label}: median {statistics.median(times) * 1000:.0f} ms, "
              f"min {min(times) * 1000:.0f} ms over {a.runs} runs")
    print("goal: uprobe-py start to exit <= 150 ms")
    ns_counts = ns["g_counts"]  # type: ignore[index]
    assert sum(ns_counts.values()) == 5 * a.hits


if __name__ == "__main__":
    main()
