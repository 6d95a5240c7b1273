"""Floating-point built-ins (fp_*): IEEE-754 doubles carried in stap longs.

Input and output: longs holding the bit pattern of a binary64 value (or of a
binary32 value for fp32_to_fp64); fp_to_string returns a string and
string_to_fp parses one.

stap computes these with Berkeley SoftFloat 3 (runtime/softfloat.c), rounding
to nearest-even. Python floats are binary64 with the same rounding, so the
arithmetic is done natively; what differs is fixed up here to match the
SoftFloat build stap ships:

- every invalid operation (inf-inf, 0*inf, 0/0, sqrt(-x), rem(x, 0), ...)
  yields the default NaN 0x7FF8000000000000;
- a NaN operand propagates: a signalling NaN (first operand preferred) comes
  back quieted, otherwise the first NaN operand is returned unchanged;
- division by zero gives a signed infinity instead of a Python exception;
- fp_to_long follows f64_to_i64() (rounding modes 0..4, mode 6 "odd" acts as
  truncation because SOFTFLOAT_ROUND_ODD is not defined; NaN gives 0,
  overflow gives INT64_MAX / INT64_MIN);
- fp_to_string and string_to_fp reproduce stap's own f64_to_str() and
  str_to_f64() digit loops, quirks included (see their comments).
"""
from __future__ import annotations

import math
import struct

from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from uprobe_py.runtime.values import MASK64, wrap

GROUP = "Floating point processing Tapset"

DEFAULT_NAN = 0x7FF8000000000000
_EXP = 0x7FF0000000000000
_FRAC = 0x000FFFFFFFFFFFFF
_QUIET = 0x0008000000000000
_SIGN = 1 << 63

_pack_q = struct.Struct("<Q").pack
_unpack_q = struct.Struct("<Q").unpack
_pack_d = struct.Struct("<d").pack
_unpack_d = struct.Struct("<d").unpack


def _f(u: int) -> float:
    return _unpack_d(_pack_q(u))[0]  # type: ignore[no-any-return]


def _u(f: float) -> int:
    return _unpack_q(_pack_d(f))[0]  # type: ignore[no-any-return]


def _is_nan(u: int) -> bool:
    return (u & _EXP) == _EXP and (u & _FRAC) != 0


def _is_snan(u: int) -> bool:
    return (u & 0x7FF8000000000000) == _EXP and (u & 0x0007FFFFFFFFFFFF) != 0


def _propagate(a: int, b: int) -> int:
    # softfloat_propagateNaNF64UI()
    if _is_snan(a):
        return a | _QUIET
    if _is_snan(b):
        return b | _QUIET
    return a if _is_nan(a) else b


def _result(f: float) -> int:
    return DEFAULT_NAN if math.isnan(f) else _u(f)


def _binop(x: int, y: int, op: int) -> int:
    a = x & MASK64
    b = y & MASK64
    if _is_nan(a) or _is_nan(b):
        return wrap(_propagate(a, b))
    fa = _f(a)
    fb = _f(b)
    if op == 0:
        r = fa + fb
    elif op == 1:
        r = fa - fb
    elif op == 2:
        r = fa * fb
    elif op == 3:
        if fb == 0.0:
            if fa == 0.0:
                return wrap(DEFAULT_NAN)
            return wrap(((a ^ b) & _SIGN) | _EXP)
        r = fa / fb
    else:
        try:
            r = math.remainder(fa, fb)
        except ValueError:
            return wrap(DEFAULT_NAN)
    return wrap(_result(r))


@builtin("fp_add", LONG, (LONG, LONG), group=GROUP)
def fp_add(add1: int, add2: int) -> int:
    return _binop(add1, add2, 0)


@builtin("fp_sub", LONG, (LONG, LONG), group=GROUP)
def fp_sub(sub1: int, sub2: int) -> int:
    return _binop(sub1, sub2, 1)


@builtin("fp_mul", LONG, (LONG, LONG), group=GROUP)
def fp_mul(mul1: int, mul2: int) -> int:
    return _binop(mul1, mul2, 2)


@builtin("fp_div", LONG, (LONG, LONG), group=GROUP)
def fp_div(div1: int, div2: int) -> int:
    return _binop(div1, div2, 3)


@builtin("fp_rem", LONG, (LONG, LONG), group=GROUP)
def fp_rem(div1: int, div2: int) -> int:
    # IEEE remainder (round-to-nearest quotient), not C fmod().
    return _binop(div1, div2, 4)


@builtin("fp_sqrt", LONG, (LONG,), group=GROUP)
def fp_sqrt(infp: int) -> int:
    a = infp & MASK64
    if _is_nan(a):
        return wrap(_propagate(a, 0))
    fa = _f(a)
    if fa < 0.0:
        return wrap(DEFAULT_NAN)
    return wrap(_u(math.sqrt(fa)))


@builtin("fp_eq", LONG, (LONG, LONG), group=GROUP)
def fp_eq(infp1: int, infp2: int) -> int:
    return 1 if _f(infp1 & MASK64) == _f(infp2 & MASK64) else 0


@builtin("fp_le", LONG, (LONG, LONG), group=GROUP)
def fp_le(infp1: int, infp2: int) -> int:
    return 1 if _f(infp1 & MASK64) <= _f(infp2 & MASK64) else 0


@builtin("fp_lt", LONG, (LONG, LONG), group=GROUP)
def fp_lt(infp1: int, infp2: int) -> int:
    return 1 if _f(infp1 & MASK64) < _f(infp2 & MASK64) else 0


@builtin("long_to_fp", LONG, (LONG,), group=GROUP)
def long_to_fp(input: int) -> int:
    return wrap(_u(float(input)))


@builtin("fp32_to_fp64", LONG, (LONG,), group=GROUP)
def fp32_to_fp64(input: int) -> int:
    u = input & 0xFFFFFFFF
    if (u & 0x7F800000) == 0x7F800000 and (u & 0x007FFFFF):
        # NaN: sign, quiet bit, payload shifted into the top of the fraction
        return wrap(((u >> 31) << 63) | DEFAULT_NAN | (((u << 41) & MASK64) >> 12))
    return wrap(_u(struct.unpack("<f", struct.pack("<I", u))[0]))


# --- fp_to_long: f64_to_i64() -----------------------------------------------------------

_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)


@builtin("fp_to_long", LONG, (LONG, LONG, LONG), group=GROUP)
def fp_to_long(infp: int, roundingMode: int, exact: int) -> int:
    ui = infp & MASK64
    sign = ui >> 63
    exp = (ui >> 52) & 0x7FF
    sig = ui & _FRAC
    mode = roundingMode & 0xFF                 # uint_fast8_t
    if exp:
        sig |= 1 << 52
    shift = 0x433 - exp
    if shift <= 0:
        if shift < -11:
            if exp == 0x7FF and (ui & _FRAC):
                return 0                       # i64_fromNaN
            return _INT64_MIN if sign else _INT64_MAX
        sig = sig << -shift
        extra = 0
    else:
        # softfloat_shiftRightJam96M on (sig:64, 0:32): keep a sticky bit
        x = sig << 32
        if shift < 96:
            j = (x >> shift) | (1 if x & ((1 << shift) - 1) else 0)
        else:
            j = 1 if x else 0
        sig = j >> 32
        extra = j & 0xFFFFFFFF
    # softfloat_roundMToI64
    if mode == 4 or mode == 0:                 # near_maxMag, near_even
        inc = extra >= 0x80000000
    else:
        inc = extra != 0 and ((mode == 2) if sign else (mode == 3))   # min, max
    if inc:
        sig = (sig + 1) & MASK64
        if sig == 0:
            return _INT64_MIN if sign else _INT64_MAX
        if extra == 0x80000000 and mode == 0:
            sig &= ~1
    z = wrap(-sig if sign else sig)
    if z and ((z < 0) != bool(sign)):
        return _INT64_MIN if sign else _INT64_MAX
    return z


# --- fp_to_string: stap's f64_to_str() ---------------------------------------------------

@builtin("fp_to_string", STRING, (LONG, LONG), needs_ctx=True, group=GROUP)
def fp_to_string(ctx: Context, infp: int, precision: int) -> str:
    # The integer and fraction split uses C shifts by (52 - exponent) on an
    # unsigned 32-bit count, which x86-64 reduces modulo 64: values below
    # 2**-11 or at/above 2**53 (and inf/NaN) print as stap prints them, i.e.
    # wrongly. The last digit is rounded up without carrying ("0.10" for 0.96
    # at precision 1). At least one fraction digit is always printed.
    ui = infp & MASK64
    exp = (ui >> 52) & 0x7FF
    sig = ui & _FRAC
    if exp:
        sig |= 1 << 52
    sh = (1075 - exp) & 63
    base = 1 << sh
    parts = ["-" if ui >> 63 else "", str(sig >> sh), "."]
    frac = sig & (base - 1)
    prec = precision & 0xFFFFFFFF
    prec = prec - (1 << 32) if prec & 0x80000000 else prec
    maxlen = ctx.session.maxstringlen
    for _ in range(min(max(prec - 1, 0), maxlen)):
        frac = (frac * 10) & MASK64
        parts.append(str(frac // base))
        frac %= base
    frac = (frac * 10) & MASK64
    last = frac // base
    frac %= base
    if frac:
        frac = (frac * 10) & MASK64
        if frac // base >= 5:
            last += 1
    parts.append(str(last))
    return "".join(parts)


# --- string_to_fp: stap's str_to_f64() ---------------------------------------------------

def _fdiv(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _repeat(power: float, count: float, up: bool) -> float:
    # `while (power2 != 0) { power = power*10 (or /10); power2 -= 1; }`:
    # after about 700 steps power is 0 or inf and stays there. (A count above
    # 2**53 never reaches 0 in stap, which then spins forever; here it
    # saturates instead.)
    n = int(min(count, 1000.0))
    for _ in range(n):
        power = power * 10.0 if up else power / 10.0
    return power


@builtin("string_to_fp", LONG, (STRING,), group=GROUP)
def string_to_fp(input: str) -> int:
    s = input
    n = len(s)
    i = 0
    sign = -1.0 if s[:1] == "-" else 1.0
    if s[:1] in ("-", "+"):
        i = 1
    value = 0.0
    while i < n and "0" <= s[i] <= "9":
        value = value * 10.0 + float(ord(s[i]) - 48)
        i += 1
    if i < n and s[i] == ".":
        i += 1
    power = 1.0
    while i < n and "0" <= s[i] <= "9":
        value = value * 10.0 + float(ord(s[i]) - 48)
        power = power * 10.0
        i += 1
    if i < n and s[i] in ("e", "E"):
        i += 1
        negative = i < n and s[i] == "-"
        if i < n and s[i] in ("-", "+"):
            i += 1
        power2 = 0.0
        while i < n and "0" <= s[i] <= "9":
            power2 = power2 * 10.0 + float(ord(s[i]) - 48)
            i += 1
        # "1e-3" multiplies the divisor, "1e3" divides it
        power = _repeat(power, power2, negative)
    if i != n:
        raise StapRuntimeError("invalid format")
    q = _fdiv(value, power)
    if math.isnan(q):
        raise StapRuntimeError("invalid format")
    return wrap(_u(sign * q))
