"""`begin`, `end`, `error` and `never` probes, with optional sequence numbers `begin(N)`.

They fire once (begin at start, end at a normal finish, error after a run-time
error instead of end), in ascending sequence order, ties in script order; `never`
never fires. The session runs them itself, so they need no engine.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..lexer import Token
from .registry import ProbeResolveError, ProbeSpec, register


class BeginEndFamily:
    names = ("begin", "end", "error", "never")

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        first = components[0]
        if len(components) > 1:
            raise ProbeResolveError("invalid suffix for probe", components[1].tok)
        seq = 0
        if first.arg is not None:
            if first.name == "never" or not isinstance(first.arg.value, int):
                raise ProbeResolveError(
                    "probe point mismatch (similar: begin, end, init, vm, generic)", first.tok)
            seq = first.arg.value
        pp = first.name if first.arg is None else f"{first.name}({seq})"
        return [ProbeSpec(first.name, pp, {"sequence": seq})]

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional[Any]:
        return None


register(BeginEndFamily())
