"""fp_* built-ins (uprobe_py/builtins/fn_float.py).

Expected values follow `man 3stap function::fp_*` and the SoftFloat build in
SystemTap 4.8's runtime/softfloat.c (default NaN 0x7FF8000000000000,
f64_to_i64 overflow values, stap's own f64_to_str/str_to_f64 loops).
"""
from __future__ import annotations

import math
import struct

import pytest

from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from builtin_support import StubSession, fn


def bits(x: float) -> int:
    u: int = struct.unpack("<Q", struct.pack("<d", x))[0]
    return u - (1 << 64) if u >> 63 else u


NAN = 0x7FF8000000000000
INF = 0x7FF0000000000000
ctx = Context(StubSession())


def fp(s: str) -> int:
    r: int = fn("string_to_fp", 1)(s)
    return r


def test_long_to_fp_and_back() -> None:
    assert fn("long_to_fp", 1)(3) == bits(3.0)
    assert fn("long_to_fp", 1)(-1) == bits(-1.0)
    assert fn("long_to_fp", 1)((1 << 63) - 1) == bits(9.223372036854775807e18)
    assert fn("fp_to_long", 3)(bits(3.0), 0, 0) == 3


def test_arithmetic() -> None:
    one, two = fn("long_to_fp", 1)(1), fn("long_to_fp", 1)(2)
    assert fn("fp_add", 2)(one, two) == bits(3.0)
    assert fn("fp_sub", 2)(one, two) == bits(-1.0)
    assert fn("fp_mul", 2)(two, two) == bits(4.0)
    assert fn("fp_div", 2)(one, two) == bits(0.5)
    assert fn("fp_add", 2)(fp("0.1"), fp("0.2")) == bits(0.1 + 0.2)
    assert fn("fp_sqrt", 1)(two) == bits(math.sqrt(2.0))
    # IEEE remainder: the quotient is rounded to nearest, so 5 rem 3 = -1
    assert fn("fp_rem", 2)(bits(5.0), bits(3.0)) == bits(-1.0)
    assert fn("fp_rem", 2)(bits(7.5), bits(2.0)) == bits(-0.5)


def test_special_values() -> None:
    one = bits(1.0)
    assert fn("fp_div", 2)(one, 0) == INF
    assert fn("fp_div", 2)(one, bits(-0.0)) == bits(-math.inf)
    assert fn("fp_div", 2)(0, 0) == NAN                  # invalid -> default NaN
    assert fn("fp_sub", 2)(INF, INF) == NAN
    assert fn("fp_mul", 2)(INF, 0) == NAN
    assert fn("fp_sqrt", 1)(bits(-4.0)) == NAN
    assert fn("fp_sqrt", 1)(bits(-0.0)) == bits(-0.0)
    assert fn("fp_rem", 2)(one, 0) == NAN
    # a quiet NaN operand comes back unchanged; a signalling one is quieted
    qnan = 0x7FF8000000000123
    snan = 0x7FF0000000000123
    assert fn("fp_add", 2)(one, qnan) == qnan
    assert fn("fp_add", 2)(snan, qnan) == snan | 0x0008000000000000
    assert fn("fp_sqrt", 1)(snan) == snan | 0x0008000000000000


def test_comparisons() -> None:
    a, b = bits(1.5), bits(2.5)
    assert (fn("fp_lt", 2)(a, b), fn("fp_lt", 2)(b, a), fn("fp_lt", 2)(a, a)) == (1, 0, 0)
    assert (fn("fp_le", 2)(a, b), fn("fp_le", 2)(b, a), fn("fp_le", 2)(a, a)) == (1, 0, 1)
    assert (fn("fp_eq", 2)(a, a), fn("fp_eq", 2)(a, b)) == (1, 0)
    assert fn("fp_eq", 2)(0, bits(-0.0)) == 1
    assert fn("fp_eq", 2)(NAN, NAN) == 0
    assert fn("fp_le", 2)(NAN, a) == 0


@pytest.mark.parametrize("mode,pos,neg", [
    (0, 2, -2),    # round to nearest even
    (1, 2, -2),    # toward zero (minMag)
    (2, 2, -3),    # toward -inf (min)
    (3, 3, -2),    # toward +inf (max)
    (4, 3, -3),    # nearest, ties away (near_maxMag)
    (6, 2, -2),    # odd: SOFTFLOAT_ROUND_ODD is not compiled in
])
def test_fp_to_long_rounding(mode: int, pos: int, neg: int) -> None:
    # man fp_to_long: rounding modes 0-6
    assert fn("fp_to_long", 3)(fp("2.5"), mode, 0) == pos
    assert fn("fp_to_long", 3)(fp("-2.5"), mode, 0) == neg


def test_fp_to_long_limits() -> None:
    f = fn("fp_to_long", 3)
    assert f(bits(3.5), 0, 0) == 4
    assert f(bits(0.3), 3, 0) == 1
    assert f(bits(-0.3), 2, 0) == -1
    assert f(bits(1e300), 0, 0) == (1 << 63) - 1
    assert f(bits(-1e300), 0, 0) == -(1 << 63)
    assert f(bits(2.0 ** 63), 0, 0) == (1 << 63) - 1
    assert f(bits(-2.0 ** 63), 0, 0) == -(1 << 63)
    assert f(NAN, 0, 0) == 0


def test_fp32_to_fp64() -> None:
    f = fn("fp32_to_fp64", 1)
    assert f(0x3F800000) == bits(1.0)
    assert f(0xC0490FDB) == bits(struct.unpack("<f", struct.pack("<I", 0xC0490FDB))[0])
    assert f(0x7F800000) == INF
    assert f(0x7FC00000) == NAN
    assert f(0x00000001) == bits(2.0 ** -149)


def test_fp_to_string() -> None:
    f = fn("fp_to_string", 2)
    # man fp_to_string: precision = digits after the decimal point
    assert f(ctx, bits(3.0), 2) == "3.00"
    assert f(ctx, fp("3.14159"), 2) == "3.14"
    assert f(ctx, fp("3.14159"), 4) == "3.1416"
    assert f(ctx, bits(-2.5), 1) == "-2.5"
    assert f(ctx, bits(0.125), 3) == "0.125"
    # softfloat.c f64_to_str(): at least one digit; the last one is rounded
    # without carry
    assert f(ctx, bits(7.0), 0) == "7.0"
    assert f(ctx, fp("0.96"), 1) == "0.10"


def test_string_to_fp() -> None:
    # man string_to_fp: decimal number -> 64-bit floating point
    assert fp("3.14") == bits(3.14)
    assert fp("-42") == bits(-42.0)
    assert fp("+0.5") == bits(0.5)
    assert fp("1e3") == bits(1000.0)
    assert fp("1.5e-3") == bits(0.0015)
    assert fp("-0") == bits(-0.0)
    assert fp("") == 0
    assert fp("1e") == bits(1.0)             # "e" with no digits: exponent 0
    for bad in ("abc", "1.2.3", " 1", "1x"):
        with pytest.raises(StapRuntimeError) as e:
            fp(bad)
        assert e.value.msg == "invalid format"
