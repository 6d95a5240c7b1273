"""The registry of probe-point families and the seams later families plug into.

A family is an object with:
  - `names`: the first components it owns (e.g. ("timer",)),
  - `resolve(components, tok) -> list[ProbeSpec]`, raising `ProbeResolveError`
    with stap's wording when the point is wrong,
  - `make_engine(session, probes, fire) -> Engine | None`: what delivers its
    events at run time; `fire(probe)` runs a probe's handler.
A module of this package registers its families when it is imported (`_load` imports them
all). A family's name is what `ProbeSpec.family` says and what the session asks for an
engine by; names with a dot (`kernel.trace`) are reached through their first component's
family (probes/kernel.py routes `kernel.X`). listing (`-l`/`-L`) lives in listing.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from ..lexer import Token


class ProbeResolveError(Exception):
    """A probe point that a family recognised but cannot accept."""

    def __init__(self, msg: str, tok: Optional[Token] = None, before: Optional[list[str]] = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.tok = tok
        self.before = before or []     # stap's own errors printed ahead of "while resolving"


@dataclass
class ProbeSpec:
    """One resolved probe: which family/engine fires it and with what parameters."""
    family: str
    pp: str                              # canonical text, what pp() returns
    params: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """What the session's dispatch loop needs from an event source.

    An engine is created once per session with the probes of its family and the
    function to call for a hit, `fire(probe)`; the session waits on every engine's
    fds and earliest deadline in one loop and then lets each `poll`.
    """

    def start(self, now: float) -> None: ...                     # arm, given the monotonic time
    def next_timeout(self, now: float) -> Optional[float]: ...   # seconds until due, None if idle
    def filenos(self) -> list[int]: ...                          # fds to wait on
    def poll(self, now: float) -> None: ...                      # deliver whatever is due
    def stop(self) -> None: ...
    # optional: target_created() right after the -c command's process exists (before it
    # runs), session_over() on every way out of the session (runtime/session.py _engine_hook)


class Family(Protocol):
    names: tuple[str, ...]

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]: ...

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional[Engine]: ...


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    for name in family.names:
        FAMILIES[name] = family
    return family


def find_family(name: str) -> Optional[Family]:
    _load()
    return FAMILIES.get(name)


def all_family_names() -> list[str]:
    _load()
    return sorted(FAMILIES)


_loaded = False


def _load() -> None:
    """Import every module of this package once: each registers its families."""
    global _loaded
    if not _loaded:
        _loaded = True
        import importlib
        import pkgutil
        from . import __path__ as here, __name__ as pkg
        for mod in sorted(m.name for m in pkgutil.iter_modules(here)):
            if mod != "registry":
                importlib.import_module(f"{pkg}.{mod}")
