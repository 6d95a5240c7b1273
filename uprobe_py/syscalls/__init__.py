"""stap's `syscall.NAME` / `syscall.NAME.return` aliases as a library.

The engine stops a tracee on a system call and hands over (nr, six argument
registers, return value or None, memory); this package turns that into the alias's
variables (`name`, `argstr`, `retstr`, per-call ones) exactly as stap formats them.

    specs = resolve_alias("open*", is_return=False)   # -> [AliasSpec], or raise AliasError
    spec.numbers                                       # x86_64 syscall numbers to stop on
    spec.variables                                     # {"name": "string", "flags": "long", ...}
    spec.values(nr, args, ret, memory, names=("argstr",))   # -> {"argstr": '"/tmp/x", O_RDONLY'}
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from .decode import CALLS, CallSpec, MemCtx, View, generic_spec, variables_of
from .table import NAME_TO_NR, NR_TO_NAME, STAP_ALIASES

# stap alias -> x86_64 system calls when the names differ (decode.py's `covers` wins when given)
_X86_64_NAMES = {"umount": ("umount2",), "sysctl": ("_sysctl",)}


class AliasError(Exception):
    """No alias matches: `msg` is stap's text after "semantic error: "."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


@dataclass
class AliasSpec:
    alias: str                      # "open"
    is_return: bool
    call: CallSpec
    numbers: tuple[int, ...]        # syscall numbers to stop on (empty: none on x86_64)
    variables: dict[str, str]       # name -> "long" / "string"

    @property
    def pp(self) -> str:
        return "syscall." + self.alias + (".return" if self.is_return else "")

    def view(self, nr: int, args: Sequence[int], ret: Optional[int], ctx: Any) -> View:
        """`ctx`: anything with .memory.read(addr, n) and .session.maxstringlen (the run-time Context)."""
        return View(self.call, nr, args, ret if self.is_return else None, ctx)

    def values(self, nr: int, args: Sequence[int], ret: Optional[int], memory: Any,
               names: Optional[Iterable[str]] = None, maxstringlen: int = 512) -> dict[str, object]:
        v = View(self.call, nr, args, ret if self.is_return else None, MemCtx(memory, maxstringlen))
        return {n: v.get(n) for n in (names if names is not None else self.variables)}

    def binder(self, names: Sequence[str]):
        """A per-hit function ctx -> tuple of the named variables, reading ctx.extra["syscall"]."""
        names = tuple(names)
        call, is_return = self.call, self.is_return

        def bind(ctx: Any) -> tuple:
            nr, args, ret = ctx.extra["syscall"]
            v = View(call, nr, args, ret if is_return else None, ctx)
            return tuple(v.get(n) for n in names)
        return bind


_cache: dict[tuple[str, bool], AliasSpec] = {}


def alias_spec(alias: str, is_return: bool) -> AliasSpec:
    key = (alias, is_return)
    spec = _cache.get(key)
    if spec is None:
        call = CALLS.get(alias) or generic_spec(alias)
        names = call.names if alias in CALLS else _X86_64_NAMES.get(alias, (alias,))
        nums = tuple(sorted(NAME_TO_NR[n] for n in names if n in NAME_TO_NR))
        spec = _cache[key] = AliasSpec(alias, is_return, call, nums, variables_of(call, is_return))
    return spec


def all_aliases() -> list[str]:
    return sorted(set(STAP_ALIASES) | set(CALLS))


def resolve_alias(pattern: str, is_return: bool = False) -> list[AliasSpec]:
    """The aliases `syscall.PATTERN[.return]` names (PATTERN may hold * ? [ wildcards)."""
    if any(c in pattern for c in "*?["):
        hits = [a for a in all_aliases() if fnmatch.fnmatchcase(a, pattern)]
    else:
        hits = [pattern] if pattern in set(STAP_ALIASES) | set(CALLS) else []
    if not hits:
        raise AliasError("probe point mismatch")
    return [alias_spec(a, is_return) for a in hits]


def by_number(nr: int, is_return: bool = False) -> Optional[AliasSpec]:
    """The decoded alias covering syscall `nr`, if any (for `syscall.*`-style dispatch)."""
    for spec in (alias_spec(a, is_return) for a in CALLS):
        if nr in spec.numbers:
            return spec
    return None


__all__ = ["AliasError", "AliasSpec", "MemCtx", "NR_TO_NAME", "NAME_TO_NR", "alias_spec", "all_aliases",
           "by_number", "resolve_alias"]
