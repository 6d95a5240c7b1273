"""The names generated code may use: `EXPORTED` is the whole runtime surface.

Everything here is bound into the generated module's namespace once, so a
handler finds each helper as a module global (one dict lookup, no attribute).
"""
from __future__ import annotations

from typing import Any

from . import stats
from .arrays import StapArray, aset, delete_wild, in_wild, items, stat_add
from .errors import MaxActionExceeded, StapRuntimeError
from .histogram import format_hist_linear, format_hist_log, hist_buckets, hist_index
from .regex import rematch
from .stats import Stat
from .values import div, mod, shl, shr, wrap


def incdec(arr: StapArray, key: Any, delta: int, prefix: bool) -> int:
    old = arr.get(key, 0)
    new = wrap(old + delta)
    aset(arr, key, new)
    return new if prefix else old


def stat_add_scalar(s: Stat, v: int) -> int:
    s.add(v)
    return v


def stat_add_elem(arr: StapArray, key: Any, v: int) -> int:
    stat_add(arr, key, v)
    return v


def maxaction() -> None:
    raise MaxActionExceeded("MAXACTION exceeded")


def maxnesting() -> None:
    raise StapRuntimeError("MAXNESTING exceeded")


EXPORTED: dict[str, object] = {
    "_w": wrap, "_div": div, "_mod": mod, "_shl": shl, "_shr": shr,
    "_aset": aset, "_stat_add_elem": stat_add_elem, "_stat_add_scalar": stat_add_scalar,
    "_incdec": incdec, "_in_wild": in_wild, "_delete_wild": delete_wild, "_foreach_items": items,
    "_hist_buckets": hist_buckets, "_hist_index": hist_index,
    "_fmt_hist_log": format_hist_log, "_fmt_hist_linear": format_hist_linear,
    "_s_count": stats.count, "_s_sum": stats.sum, "_s_min": stats.min, "_s_max": stats.max,
    "_s_avg": stats.avg, "_s_variance": stats.variance,
    "_rematch": rematch, "_maxaction": maxaction, "_maxnesting": maxnesting,
    "_StapRuntimeError": StapRuntimeError, "StapArray": StapArray, "Stat": Stat,
}
