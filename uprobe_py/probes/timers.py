"""`timer.ms/s/sec/us/ns/hz/jiffies(N)` with optional `.randomize(M)`, and their engine.

Resolution applies stap's rules (interval within (1, 86400000) in its unit,
frequency > 0, randomisation below the interval). At run time the engine keeps a
heap of deadlines on the monotonic clock; the dispatch loop sleeps until the
earliest. A periodic timer is re-armed from its previous deadline, so it does not
drift; with `.randomize(M)` each period gets a uniform offset in [-M, M].
"""
from __future__ import annotations

import heapq
import random
from typing import Any, Callable, Optional

from ..lexer import Token
from .registry import ProbeResolveError, ProbeSpec, register

UNIT_NS = {"ns": 1, "nsec": 1, "us": 1_000, "usec": 1_000, "ms": 1_000_000, "msec": 1_000_000,
           "s": 1_000_000_000, "sec": 1_000_000_000}
JIFFY_HZ = 250   # CONFIG_HZ of common kernels; stap's jiffies are kernel ticks


def _jiffy_hz() -> int:
    try:
        import gzip
        with gzip.open("/proc/config.gz", "rt") as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    return int(line.split("=")[1])
    except (OSError, ValueError):
        pass
    return JIFFY_HZ


class TimerFamily:
    names = ("timer",)

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        if len(components) < 2:
            raise ProbeResolveError("probe point mismatch (similar: hz, s, ms, ns, us)", components[0].tok)
        unit = components[1]
        if unit.name not in UNIT_NS and unit.name not in ("hz", "jiffies"):
            if unit.name == "profile":               # cpu-clock sampling: probes/perf.py
                from .perf import resolve_profile
                return resolve_profile(components)
            raise ProbeResolveError("probe point mismatch (similar: hz, s, ms, ns, us)", unit.tok)
        if unit.arg is None or not isinstance(unit.arg.value, int):
            # stap's suggestion order for a known unit used without its number
            raise ProbeResolveError("probe point mismatch (similar: ms, s, ns, us, hz)", unit.tok)
        n = unit.arg.value
        rand = 0
        pp = f"timer.{unit.name}({n})"
        if len(components) > 2:
            r = components[2]
            if r.name != "randomize" or r.arg is None or not isinstance(r.arg.value, int) \
                    or len(components) > 3 or unit.name == "hz":
                raise ProbeResolveError("invalid suffix for probe", r.tok)
            rand = r.arg.value
            pp += f".randomize({rand})"
        if unit.name == "hz":
            if n <= 0:
                raise ProbeResolveError("frequency must be greater than 0")
            period_ns, rand_ns = 1_000_000_000 // n, 0
            if period_ns < 100_000:
                raise ProbeResolveError("interval value out of range (100000, 86400000000000)")
        elif unit.name == "jiffies":
            hz = _jiffy_hz()
            if not 1 <= n <= 86400 * hz:
                raise ProbeResolveError("invalid interval for jiffies timer")
            if rand < 0 or rand > n:
                raise ProbeResolveError("randomization value out of range")
            period_ns, rand_ns = n * (1_000_000_000 // hz), rand * (1_000_000_000 // hz)
        else:
            # stap's bounds: at least 100 µs, at most one day, in the probe's own unit
            scale = UNIT_NS[unit.name]
            lo = max(1, 100_000 // scale)
            hi = 86_400 * 1_000_000_000 // scale
            if not lo <= n <= hi:
                raise ProbeResolveError(f"interval value out of range ({lo}, {hi})")
            if rand < 0 or rand > n:
                raise ProbeResolveError("randomization value out of range")
            period_ns, rand_ns = n * scale, rand * scale
        return [ProbeSpec("timer", pp, {"period_ns": period_ns, "randomize_ns": rand_ns})]

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional[Any]:
        if probes and probes[0].spec.family == "perf":      # timer.profile: probes/perf.py
            from .perf import PerfFamily
            return PerfFamily().make_engine(session, probes, fire)
        return TimerEngine(session, probes, fire) if probes else None


class TimerEngine:
    def __init__(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> None:
        self.probes = probes
        self.fire = fire
        self.heap: list[tuple[float, int, Any]] = []
        # per probe, decided once: (period in seconds, randomisation in ns)
        self.timing = {p.index: (p.spec.params["period_ns"] / 1e9, p.spec.params["randomize_ns"])
                       for p in probes}

    def _period(self, probe: Any) -> float:
        period, rand = self.timing[probe.index]
        if rand:
            return max(period + random.randint(-rand, rand) / 1e9, 1e-9)
        return period

    def start(self, now: float) -> None:
        for i, probe in enumerate(self.probes):
            heapq.heappush(self.heap, (now + self._period(probe), i, probe))

    def next_timeout(self, now: float) -> Optional[float]:
        if not self.heap:
            return None
        return max(0.0, self.heap[0][0] - now)

    def filenos(self) -> list[int]:
        return []

    def poll(self, now: float) -> None:
        heap = self.heap
        while heap and heap[0][0] <= now:
            due, i, probe = heapq.heappop(heap)
            nxt = due + self._period(probe)
            if nxt <= now:          # we fell behind: do not fire a burst to catch up
                nxt = now + self._period(probe)
            heapq.heappush(heap, (nxt, i, probe))
            self.fire(probe)

    def stop(self) -> None:
        self.heap.clear()


register(TimerFamily())
