"""stap statistics aggregates: `s <<< v`, @count/@sum/@min/@max/@avg/@variance.

A `Stat` is what stap keeps per scalar aggregate or per array element (one
`struct stat_data` in the runtime).  `Stat.add(v)` is the per-hit path of
`s <<< v`; the extraction functions below read it with stap's semantics.

Facts taken from SystemTap 4.8 (runtime/stat.c, stat-common.c, map.c and the
C that `stap -p3` generates):

* The runtime keeps per-CPU data and merges it on every read.  uprobe-py is one
  "CPU", so a scalar reads like stap with every hit on one CPU.
* Empty aggregates: @count and @sum give 0 (scalar never written, or a missing
  array element); @min, @max, @avg, @variance, printing a histogram and
  indexing one raise "empty aggregate".  A missing array element is `None` here.
* @avg is `sum / count` with C (truncating) division on the 64-bit sum.
* @variance uses Welford's method in 64-bit integers on values scaled by
  `<< shift` (`@variance(s, shift)`, shift 0..62), with the runtime's quirks
  copied exactly: the per-hit delta is a C `int` (truncated to 32 bits), and a
  scalar is read through the "total variance" merge formula, while an array
  element is copied without it (so the two can differ for the same data).
  The result is shifted right by 2*shift (x86 masks the count to 6 bits).
  With one sample the variance is 0.
* Which statistics the runtime tracks depends on the script's extractions, but
  it always tracks everything a script can observe, so tracking all of them
  (as done here) gives the same values.
"""
from __future__ import annotations

from .errors import StapRuntimeError
from .histogram import (HIST_LOG_BUCKETS, check_hist_linear, linear_nbuckets,
                        wrap32)
from .values import wrap

__all__ = [
    "Stat", "EMPTY_AGGREGATE", "count", "sum", "min", "max", "avg", "variance",
    "sort_key", "check_variance_shift", "make_hist_spec",
]

EMPTY_AGGREGATE = "empty aggregate"

_MIN64 = -(1 << 63)
_MAX64 = (1 << 63) - 1
_M32 = 0xFFFFFFFF


def _cdiv(a: int, b: int) -> int:
    """The runtime's _stp_div64: C truncating division, 0 when b == 0."""
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return wrap(q if (a < 0) == (b < 0) else -q)


def make_hist_spec(hist):
    """Normalise a histogram spec: None, ("log",) or ("linear", lo, hi, step).

    The runtime receives lo/hi/step as C `int`, so they are cut to 32 bits.
    Returns (kind, lo, step, nbuckets); kind is None, "log" or "linear".
    A linear spec the runtime refuses raises ValueError with the runtime's
    message (see histogram.check_hist_linear): stap never starts such a script.
    """
    if hist is None:
        return None, 0, 0, 0
    if hist[0] == "log":
        return "log", 0, 0, HIST_LOG_BUCKETS
    if hist[0] == "linear":
        lo, hi, step = (wrap32(x) for x in hist[1:4])
        msg = check_hist_linear(lo, hi, step)
        if msg is not None:
            raise ValueError(msg)
        return "linear", lo, step, linear_nbuckets(lo, hi, step)
    raise ValueError("unknown histogram spec %r" % (hist,))


class Stat:
    """One aggregate (scalar, or one array element).

    `Stat(hist=None, shift=None, keyed=False)`:
      hist   None, ("log",) or ("linear", lo, hi, step): the one histogram the
             script extracts from this variable (stap allows only one kind).
      shift  the @variance bit shift if the script uses @variance on this
             variable (None: variance is not tracked, keeping add() cheap).
      keyed  True for an element of a statistics array (changes how
             @variance is read, see module docstring).
    Attributes read by the extractors: count, sum (unwrapped Python int),
    min, max, hist (list of bucket counts or None).
    """

    __slots__ = ("count", "sum", "min", "max", "hist", "kind", "lo", "step",
                 "nbuckets", "_nb1", "_div", "shift", "keyed", "avg_s", "m2",
                 "var_s", "_vtrack")

    def __init__(self, hist=None, shift=None, keyed=False):
        kind, lo, step, nb = make_hist_spec(hist)
        self.kind = kind
        self.lo = lo
        self.step = step
        self.nbuckets = nb
        self._nb1 = nb - 1
        self._div = step & _M32          # do_div() takes a uint32 divisor
        self.shift = 0 if shift is None else shift
        self._vtrack = shift is not None
        self.keyed = keyed
        self.clear()

    def clear(self) -> None:
        """`delete s`: back to the empty state."""
        self.count = 0
        self.sum = 0
        self.min = 0
        self.max = 0
        self.hist = [0] * self.nbuckets if self.kind else None
        self.avg_s = 0
        self.m2 = 0
        self.var_s = 0

    def add(self, v: int) -> None:
        """`s <<< v` (v already a signed 64-bit int)."""
        if self.count:
            self.count += 1
            self.sum += v
            if v < self.min:
                self.min = v
            elif v > self.max:
                self.max = v
            if self._vtrack:
                self._welford(v)
        else:
            self.count = 1
            self.sum = self.min = self.max = v
            if self._vtrack:
                self.avg_s = wrap(v << self.shift)
                self.m2 = 0
        k = self.kind
        if k is None:
            return
        h = self.hist
        if k == "log":
            if v > 0:
                h[64 + v.bit_length()] += 1
            elif v < 0:
                h[64 - (-v).bit_length()] += 1
            else:
                h[64] += 1
            return
        d = v - self.lo
        nb1 = self._nb1
        if d < 0:
            # int64 subtraction: a value far below wraps to a huge positive one
            h[0 if d >= _MIN64 else nb1] += 1
        elif d > _MAX64:
            h[0] += 1                     # wrapped negative: underflow
        else:
            b = d // self._div + 1
            h[b if b < nb1 else nb1] += 1

    def _welford(self, v: int) -> None:
        # runtime/stat-common.c __stp_stat_add; count already incremented.
        # All arithmetic is int64 (wrapping) except `int delta` (32 bits).
        x = v << self.shift
        if not _MIN64 <= x <= _MAX64:
            x = wrap(x)
        delta = x - self.avg_s
        if not -0x80000000 <= delta <= 0x7FFFFFFF:
            delta = wrap32(delta)
        n = self.count
        q = delta // n if delta >= 0 else -(-delta // n)   # C division, n > 0
        avg = self.avg_s + q
        if not _MIN64 <= avg <= _MAX64:
            avg = wrap(avg)
        self.avg_s = avg
        d2 = x - avg
        if not _MIN64 <= d2 <= _MAX64:
            d2 = wrap(d2)
        m2 = self.m2 + delta * d2
        if not _MIN64 <= m2 <= _MAX64:
            m2 = wrap(m2)
        self.m2 = m2
        self.var_s = _cdiv(m2, n - 1)

    def __repr__(self) -> str:
        return "Stat(count=%d, sum=%d, min=%d, max=%d)" % (
            self.count, wrap(self.sum), self.min, self.max)


# --- extraction ----------------------------------------------------------

def _need(s):
    if s is None or s.count == 0:
        raise StapRuntimeError(EMPTY_AGGREGATE)
    return s


def count(s) -> int:
    """@count: 0 for an empty scalar or a missing element (None)."""
    return 0 if s is None else s.count


def sum(s) -> int:  # noqa: A001 - stap's name
    """@sum: 0 for an empty scalar or a missing element (stap >= 1.5)."""
    return 0 if s is None else wrap(s.sum)


def min(s) -> int:  # noqa: A001
    return _need(s).min


def max(s) -> int:  # noqa: A001
    return _need(s).max


def avg(s) -> int:
    s = _need(s)
    return _cdiv(wrap(s.sum), s.count)


def variance(s, bitshift=None) -> int:
    """@variance(s[, bitshift]); the shift is the Stat's (fixed per variable).

    `bitshift`, if given, must equal the Stat's shift (stap rejects
    conflicting shifts at compile time).
    """
    s = _need(s)
    if bitshift is not None and bitshift != s.shift:
        raise ValueError("conflicting bit shifts (%d vs %d)" % (bitshift, s.shift))
    if not s._vtrack:
        raise ValueError("variance not tracked: create the Stat with shift=")
    sh = s.shift
    n = s.count
    if s.keyed:
        # map.c _new_map_copy_stat: the per-CPU variance is copied as is
        var_s = s.var_s
    else:
        # stat.c _stp_stat_get: total-variance merge over the (one) CPU
        agg_avg = _cdiv(wrap(wrap(s.sum) << sh), n)
        d = wrap(s.avg_s - agg_avg)
        s1 = wrap(n * d * d)
        s2 = wrap((n - 1) * s.var_s)
        var_s = _cdiv(wrap(s1 + s2), n - 1)
    return var_s >> ((2 * sh) & 63)


def check_variance_shift(n: int):
    """stap's compile-time check of @variance's bit shift (None if fine)."""
    if n < 0 or n > 62:
        return "bit shift (%d) out of range <0..62>" % n
    return None


_SORTERS = {
    "@count": lambda s: s.count,
    "@sum": lambda s: wrap(s.sum),
    "@min": lambda s: s.min,
    "@max": lambda s: s.max,
    "@avg": lambda s: _cdiv(wrap(s.sum), s.count),
}


def sort_key(s, agg=None) -> int:
    """Value compared when `foreach` sorts a statistics array.

    agg is "@count", "@sum", "@min", "@max", "@avg", or None for a plain
    value sort (`foreach (k in a-)`), which stap does by @count; so does
    "@variance" (the runtime has no variance sort).  The runtime's merge sort
    is stable, so sort with Python's stable sort on the iteration order.
    """
    return _SORTERS.get(agg, _SORTERS["@count"])(s)
