"""matched(n), matched_str(), ngroups(): the groups of the last successful `=~` (tapset regex.stp)."""
from __future__ import annotations

from typing import Any

from ..runtime.errors import StapRuntimeError
from .registry import builtin


def _last(c: Any) -> Any:
    return c.extra.get("last_match")


@builtin("matched", "string", ("long",), needs_ctx=True, group="regex")
def matched(c: Any, n: int) -> str:
    m = _last(c)
    if m is None:
        raise StapRuntimeError(f"Attempted to get subexpression {n} from failed match")
    if n < 0 or n > m.re.groups:
        raise StapRuntimeError(f"Attempted to get nonexistent subexpression {n}")
    return m.group(n) or ""


@builtin("matched_str", "string", (), needs_ctx=True, group="regex")
def matched_str(c: Any) -> str:
    return matched(c, 0)


@builtin("ngroups", "long", (), needs_ctx=True, group="regex")
def ngroups(c: Any) -> int:
    m = _last(c)
    if m is None:
        raise StapRuntimeError("Attempted to get subexpression count from failed match")
    return m.re.groups + 1
