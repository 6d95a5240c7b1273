"""stap scalar semantics: 64-bit two's-complement longs and byte strings.

Longs are Python ints kept in [-2**63, 2**63). Strings are Python `str` whose
characters are bytes (latin-1), so lengths and truncation are byte-exact and the
output encodes back to the very bytes stap would write.
"""
from __future__ import annotations

from .errors import StapRuntimeError

MASK64 = (1 << 64) - 1
SIGN64 = 1 << 63


def wrap(v: int) -> int:
    """Reduce an int to signed 64 bits."""
    if -SIGN64 <= v < SIGN64:
        return v
    v &= MASK64
    return v - (1 << 64) if v & SIGN64 else v


def div(a: int, b: int, where: int | None = None) -> int:
    """C division (truncating toward zero), with stap's error on 0.

    `where` indexes the script token to blame, when one statement divides twice."""
    if b == 0:
        raise StapRuntimeError("division by 0", where)
    q = abs(a) // abs(b)
    return wrap(q if (a < 0) == (b < 0) else -q)


def mod(a: int, b: int, where: int | None = None) -> int:
    if b == 0:
        raise StapRuntimeError("division by 0", where)
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def shl(a: int, b: int) -> int:
    # stap's generated C shifts by (count & 63), as x86 does
    return wrap(a << (b & 63))


def shr(a: int, b: int) -> int:
    # arithmetic shift of a signed int64_t, by (count & 63)
    return a >> (b & 63)


def to_unsigned(v: int) -> int:
    return v & MASK64
