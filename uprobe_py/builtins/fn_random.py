"""randint(n): a pseudo-random long in [0, n).

Input: a long n; output: a long. Follows SystemTap 4.8's `random.stp` and
runtime `_stp_random_u()`: the glibc-rand linear congruential generator
seed = seed * 1103515245 + 12345 (unsigned 64-bit), seeded once from the
clock, result seed % n. n must lie in [0, 2**20] (1048576); any other value
(negative ones included, compared as unsigned) is the run-time error
"range too wide". randint(0) is 0.

The sequence is not cryptographic and, like stap's, not reproducible
between runs; `seed_randint()` fixes the seed for tests.
"""
from __future__ import annotations

import time

from uprobe_py.builtins.registry import LONG, builtin
from uprobe_py.runtime.errors import StapRuntimeError

RANDMAX = 1024 * 1024
_MASK = (1 << 64) - 1

_seed = time.monotonic_ns() & _MASK


def seed_randint(seed: int) -> None:
    """Set the generator state (the kernel seeds it from jiffies)."""
    global _seed
    _seed = seed & _MASK


@builtin("randint", LONG, (LONG,), group="Random functions Tapset")
def randint(n: int) -> int:
    global _seed
    if n < 0 or n > RANDMAX:
        raise StapRuntimeError("range too wide")
    _seed = (_seed * 1103515245 + 12345) & _MASK
    return _seed % n if n else 0
