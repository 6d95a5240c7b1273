"""stap histograms: bucket math and the ASCII rendering of @hist_linear/@hist_log.

Everything here follows SystemTap 4.8's runtime (runtime/stat-common.c,
stat.h) and the C the translator emits:

* @hist_log has 128 buckets.  Bucket 64 holds 0; bucket 64+n holds the
  positive values with n significant bits (labelled 2**(n-1)); bucket 64-n
  the negative values whose magnitude has n bits (labelled -(2**(n-1)));
  INT64_MIN falls in bucket 0 (labelled -2**63).
* @hist_linear(s, lo, hi, step) has (hi-lo)/step + 3 buckets (C int
  arithmetic; lo/hi/step are C `int`): bucket 0 is the underflow (v < lo),
  bucket i holds lo+(i-1)*step .. lo+i*step-1, the last one is the overflow.
* `@hist_*(s)[i]` and `foreach (i in @hist_*(s))` use these raw bucket
  *indexes*; foreach visits every bucket 0..nbuckets-1, empty ones included,
  and (unlike indexing and printing) does no empty-aggregate check.
* Printing: header `value |-----...----- count`, rows `VALUE |@@@ COUNT`,
  bars scaled so the largest count is at most HIST_WIDTH (50) '@'s, up to two
  empty rows kept on each side of the data, runs of empty rows elided to a
  `~` line (HIST_ELISION = 2), a blank line at the end.  The quirks are kept:
  the value column of a linear histogram is sized from lo+step*high_index
  (one step beyond the last row), and a log histogram never shows buckets
  below 0 unless there are negative values.
* stap 4.8 does not check @hist_linear's arguments at compile time; the
  runtime refuses them when the module starts (check_hist_linear).
"""
from __future__ import annotations

from .errors import StapRuntimeError

__all__ = [
    "HIST_WIDTH", "HIST_ELISION", "HIST_LOG_BUCKETS", "HIST_LOG_BUCKET0",
    "STP_MAX_BUCKETS", "wrap32", "needed_space", "linear_nbuckets",
    "check_hist_linear", "log_bucket", "log_bucket_value", "linear_bucket",
    "linear_bucket_value", "hist_buckets", "hist_index", "format_hist",
    "format_hist_linear", "format_hist_log",
]

HIST_WIDTH = 50
HIST_ELISION = 2
HIST_LOG_BUCKETS = 128
HIST_LOG_BUCKET0 = 64
STP_MAX_BUCKETS = 128

_EMPTY = "empty aggregate"
_RANGE = "histogram index out of range"


def wrap32(v: int) -> int:
    """Reduce to a C `int` (32-bit two's complement)."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def needed_space(v: int) -> int:
    """Characters `%lld` needs for v (runtime's needed_space)."""
    return len(str(v))


# --- linear histograms ---------------------------------------------------

def linear_nbuckets(lo: int, hi: int, step: int) -> int:
    """Number of buckets incl. under/overflow, or 0 if the runtime refuses."""
    lo, hi, step = wrap32(lo), wrap32(hi), wrap32(step)
    if step == 0:
        return 0
    n = wrap32(_cdiv(wrap32(hi - lo), step) + 3)
    if n > STP_MAX_BUCKETS or n < 3:
        return 0
    return n


def check_hist_linear(lo: int, hi: int, step: int):
    """None if stap accepts @hist_linear(s, lo, hi, step), else the message.

    stap 4.8 accepts any literal numbers at compile time (pass 2 passes); the
    runtime checks when the module initialises the global, prints
    "WARNING: " + this message, then fails with
    "ERROR: global variable '__global_NAME' allocation failed" and the
    script does not run.  (Negative steps pass if the bucket count fits.)
    """
    if wrap32(step) == 0:
        return "histogram: interval cannot be zero."
    if not linear_nbuckets(lo, hi, step):
        return ("histogram: Number of buckets must be between 1 and %d\n"
                "Number_of_buckets = (stop - start) / interval.\n"
                "Please adjust your start, stop, and interval values."
                % (STP_MAX_BUCKETS - 2))
    return None


def linear_bucket(v: int, lo: int, hi: int, step: int) -> int:
    """Bucket index of v in @hist_linear(_, lo, hi, step)."""
    nb = linear_nbuckets(lo, hi, step)
    if not nb:
        raise ValueError(check_hist_linear(lo, hi, step))
    d = v - wrap32(lo)
    if d < -(1 << 63):
        return nb - 1                  # int64 wrap: becomes a huge positive
    if d < 0 or d >= (1 << 63):
        return 0
    b = d // (wrap32(step) & 0xFFFFFFFF) + 1   # do_div(): uint32 divisor
    return b if b < nb - 1 else nb - 1


def linear_bucket_value(i: int, lo: int, step: int, nbuckets: int) -> int:
    """The value a printed row of bucket i shows (without its '<'/'>')."""
    lo, step = wrap32(lo), wrap32(step)
    if i == 0:
        return lo
    if i == nbuckets - 1:
        return lo + (i - 2) * step
    return lo + (i - 1) * step


# --- log histograms ------------------------------------------------------

def log_bucket(v: int) -> int:
    """Bucket index of v in @hist_log (runtime's _stp_val_to_bucket)."""
    if v > 0:
        return HIST_LOG_BUCKET0 + v.bit_length()
    if v < 0:
        return HIST_LOG_BUCKET0 - (-v).bit_length()
    return HIST_LOG_BUCKET0


def log_bucket_value(i: int) -> int:
    """Label of log bucket i (runtime's _stp_bucket_to_val)."""
    if i == HIST_LOG_BUCKET0:
        return 0
    if i < HIST_LOG_BUCKET0:
        return -(1 << (63 - i))
    return 1 << (i - HIST_LOG_BUCKET0 - 1)


# --- access from scripts -------------------------------------------------

def _hist_of(stat):
    h = getattr(stat, "hist", None)
    if h is None:
        raise ValueError("this Stat collects no histogram")
    return h


def hist_index(stat, i: int) -> int:
    """`@hist_*(s)[i]` (and `i in @hist_*(s)`, which is this != 0).

    stat is a Stat, or None for a missing array element.
    """
    if stat is None or stat.count == 0:
        raise StapRuntimeError(_EMPTY)
    h = _hist_of(stat)
    if 0 <= i < len(h):
        return h[i]
    raise StapRuntimeError(_RANGE)


def hist_buckets(stat):
    """[(index, count)] for `foreach (i in @hist_*(s))`: every bucket, in order.

    An empty scalar yields all-zero buckets, as stap does.  For a missing
    array element (None) stap 4.8 dereferences a NULL aggregate; raising
    "empty aggregate" here is uprobe-py's choice.
    """
    if stat is None:
        raise StapRuntimeError(_EMPTY)
    return list(enumerate(_hist_of(stat)))


# --- rendering -----------------------------------------------------------

def format_hist(stat, maxlen=None) -> str:
    """print() of the Stat's own histogram (linear or log)."""
    if stat is not None and getattr(stat, "kind", None) == "linear":
        return _format(stat, True, stat.lo, stat.step, maxlen)
    return _format(stat, False, 0, 0, maxlen)


def format_hist_linear(stat, lo: int, hi: int, step: int, maxlen=None, elision=None) -> str:
    """Text of `print(@hist_linear(s, lo, hi, step))`.

    print and println both write exactly this text (println of a histogram
    adds no newline).  sprint/sprintln render into a MAXSTRINGLEN buffer
    (512 on x86-64 in 4.8's runtime): pass maxlen=MAXSTRINGLEN to get the
    text cut to maxlen-1 bytes, as the runtime's snprintf does.
    """
    if stat is not None and stat.count:
        if getattr(stat, "kind", None) != "linear" or (
                stat.lo, stat.step, stat.nbuckets) != (
                wrap32(lo), wrap32(step), linear_nbuckets(lo, hi, step)):
            raise ValueError("Stat was created for another histogram")
    return _format(stat, True, wrap32(lo), wrap32(step), maxlen, elision)


def format_hist_log(stat, maxlen=None, elision=None) -> str:
    """Text of `print(@hist_log(s))` (maxlen: see format_hist_linear)."""
    if stat is not None and stat.count and getattr(stat, "kind", None) != "log":
        raise ValueError("Stat was created for another histogram")
    return _format(stat, False, 0, 0, maxlen, elision)


def _format(stat, linear, lo, step, maxlen, elision=None) -> str:
    """elision: -D HIST_ELISION (empty buckets kept each side of an elided run)."""
    if stat is None or stat.count == 0:
        raise StapRuntimeError(_EMPTY)
    text = render(_hist_of(stat), linear, lo, step,
                  elision=HIST_ELISION if elision is None else elision)
    if maxlen is not None and len(text) > maxlen - 1:
        text = text[:maxlen - 1]
    return text


def render(h, linear: bool, lo: int = 0, step: int = 0,
           width: int = HIST_WIDTH, elision: int = HIST_ELISION) -> str:
    """Render bucket counts h as stap's _stp_stat_print_histogram does."""
    nb = len(h)
    low, high, valmax = -1, 0, 0
    for i, c in enumerate(h):
        if c > 0:
            if low == -1:
                low = i
            high = i
            if c > valmax:
                valmax = c
    # up to two empty rows either side of the data
    for _ in range(2):
        if linear:
            if low > 0:
                low -= 1
        elif low != HIST_LOG_BUCKET0 and low > 0:
            low -= 1                    # log: never below 0 without negatives
        if high < nb - 1:
            high += 1
    under = over = 0
    if linear:
        if low == 0 and h[0] == 0:
            low += 1
        if high == nb - 1 and h[high] == 0:
            high -= 1
        under = int(low == 0)
        over = int(high == nb - 1)
    if low < 0:                         # no data at all (not reachable)
        low = 0
    scale = 1 if valmax <= width else -(-valmax // width)
    cnt_space = needed_space(valmax)
    if linear:
        # NB: int arithmetic on high_bucket itself, one step past the row
        val_space = max(needed_space(lo) + under,
                        needed_space(wrap32(lo + wrap32(step * high))) + over)
    else:
        val_space = max(needed_space(log_bucket_value(high)),
                        needed_space(log_bucket_value(low)))
    val_space = max(val_space, 5)       # len("value")

    out = ["value".rjust(val_space), " |", "-" * width, " count\n"]
    tilde = " " * val_space + " ~\n"
    max_elide = elision if elision < nb else nb
    eliding = False
    for i in range(low, high + 1):
        c = h[i]
        if elision >= 0:
            if c == 0:
                a = i - max_elide if i - max_elide > low else low
                b = i + max_elide if i + max_elide < high else high
                if not any(h[a:b + 1]):
                    eliding = True
                    continue
            if eliding:
                out.append(tilde)
                eliding = False
        prefix = ""
        if linear:
            if i == 0:
                val, prefix = lo, "<"
            elif i == nb - 1:
                val, prefix = lo + (i - 2) * step, ">"
            else:
                val = lo + (i - 1) * step
        else:
            val = log_bucket_value(i)
        pad = val_space - needed_space(val)
        out.append(prefix.rjust(pad) if pad >= 0 else prefix.ljust(-pad))
        out.append("%d |" % val)
        v = c // scale
        out.append("@" * v)
        out.append(str(c).rjust(width - v + 1 + cnt_space))
        out.append("\n")
    out.append("\n")
    return "".join(out)
