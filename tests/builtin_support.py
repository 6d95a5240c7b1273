"""Shared by the built-in unit tests: look a built-in up by name and arity."""
from __future__ import annotations

from typing import Any, Callable

from uprobe_py.builtins.registry import find_builtin


def fn(name: str, arity: int) -> Callable[..., Any]:
    b = find_builtin(name, arity)
    assert b is not None, f"{name}/{arity} not registered"
    return b.impl
