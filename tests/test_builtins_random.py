"""randint (uprobe_py/builtins/fn_random.py); facts from `man 3stap
function::randint` ("between [0,n)", "not larger than 2**20") and the
runtime's _stp_random_u() (glibc-rand LCG, "range too wide")."""
from __future__ import annotations

import pytest

from uprobe_py.builtins import fn_random
from uprobe_py.builtins.registry import find_builtin
from uprobe_py.runtime.errors import StapRuntimeError

randint = find_builtin("randint", 1).impl  # type: ignore[union-attr]


def test_range() -> None:
    for n in (1, 2, 7, 1000, 1 << 20):
        for _ in range(200):
            assert 0 <= randint(n) < n
    assert randint(0) == 0


def test_too_wide() -> None:
    for n in ((1 << 20) + 1, -1, 1 << 40):
        with pytest.raises(StapRuntimeError) as e:
            randint(n)
        assert e.value.msg == "range too wide"


def test_lcg_sequence() -> None:
    fn_random.seed_randint(0)
    assert randint(1000) == 12345 % 1000
    s = (12345 * 1103515245 + 12345) & ((1 << 64) - 1)
    assert randint(1 << 20) == s % (1 << 20)
