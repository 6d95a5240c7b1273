"""stap associative arrays: size limits, wrap-around, wildcards and foreach order.

A `StapArray` is a dict (keys: a scalar for one index, a tuple for several) with
the array's entry limit; reads of missing keys never insert. The generated code
does plain dict operations inline and calls these helpers only for the rarer
cases (overflow, wildcards, sorting, statistics elements).
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Optional

from .errors import StapRuntimeError
from .stats import Stat, sort_key


class StapArray(dict):  # type: ignore[type-arg]
    __slots__ = ("limit", "wrap", "overflow_msg", "stat_hist", "stat_shift")

    def __init__(self, limit: int, wrap: bool = False, sized: bool = False,
                 stat_hist: Optional[tuple] = None, stat_shift: Optional[int] = None) -> None:
        super().__init__()
        self.limit = limit
        self.wrap = wrap
        self.overflow_msg = (f"Array overflow, check size limit ({limit})" if sized
                             else "Array overflow, check MAXMAPENTRIES")
        self.stat_hist = stat_hist
        self.stat_shift = stat_shift

    def make_room(self, key: Any) -> None:
        """Called when the array is full and `key` is new: evict (wrap) or fail."""
        if key in self:
            return
        if self.wrap:
            del self[next(iter(self))]
            return
        raise StapRuntimeError(self.overflow_msg)


def aset(arr: StapArray, key: Any, value: Any) -> Any:
    if len(arr) >= arr.limit and key not in arr:
        arr.make_room(key)
    arr[key] = value
    return value


def stat_add(arr: StapArray, key: Any, value: int) -> None:
    s = arr.get(key)
    if s is None:
        if len(arr) >= arr.limit:
            arr.make_room(key)
        s = arr[key] = Stat(arr.stat_hist, arr.stat_shift, True)
    s.add(value)


def _matches(key: Any, pattern: tuple) -> bool:
    if not isinstance(key, tuple):
        key = (key,)
    for k, p in zip(key, pattern):
        if p is not None and k != p:
            return False
    return True


def in_wild(arr: StapArray, pattern: tuple) -> int:
    for key in arr:
        if _matches(key, pattern):
            return 1
    return 0


def delete_wild(arr: StapArray, pattern: tuple) -> None:
    for key in [k for k in arr if _matches(k, pattern)]:
        del arr[key]


def items(arr: StapArray, sort_col: Optional[int], sort_dir: int, agg: Optional[str],
          limit: Optional[int], pattern: Optional[tuple], nkeys: int) -> Any:
    """The (key, value) pairs a foreach visits, in stap's order.

    Unsorted, stap walks its map in insertion order. Sorted, it sorts the map itself
    in place (stable merge sort), which also fixes the order later unsorted loops see
    and which entry a wrap-around array drops next: so does this.
    A foreach may not modify its array (pass 2 refuses it), so an unsorted, unfiltered
    loop walks the live dict without copying it.
    """
    if sort_col is None:
        if pattern is None:
            return arr.items() if limit is None else list(islice(arr.items(), max(limit, 0)))
        pairs = [p for p in arr.items() if _matches(p[0], pattern)]
    else:
        pairs = list(arr.items())
        rev = sort_dir < 0
        if sort_col == 0:
            if pairs and isinstance(pairs[0][1], Stat):
                pairs.sort(key=lambda p: sort_key(p[1], agg), reverse=rev)
            else:
                pairs.sort(key=lambda p: p[1], reverse=rev)
        elif nkeys == 1:
            pairs.sort(key=lambda p: p[0], reverse=rev)
        else:
            i = sort_col - 1
            pairs.sort(key=lambda p: p[0][i], reverse=rev)
        arr.clear()
        arr.update(pairs)
        if pattern is not None:
            pairs = [p for p in pairs if _matches(p[0], pattern)]
    if limit is not None:
        pairs = pairs[:max(limit, 0)]
    return pairs
