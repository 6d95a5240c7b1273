"""Shared by the built-in unit tests: look a built-in up by name and arity; a stub session."""
from __future__ import annotations

from typing import Any, Callable

from uprobe_py.builtins.registry import find_builtin


def fn(name: str, arity: int) -> Callable[..., Any]:
    b = find_builtin(name, arity)
    assert b is not None, f"{name}/{arity} not registered"
    return b.impl


class StubSession:
    """What the built-ins read of a session: limits, the target pid, and output (kept in `out`)."""

    def __init__(self, target_pid: int = 0, maxstringlen: int = 128) -> None:
        self.maxstringlen = maxstringlen
        self.target_pid = target_pid
        self.out: list[str] = []

    def write(self, s: str) -> None:
        self.out.append(s)
