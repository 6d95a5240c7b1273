"""The table of functions implemented in Python that scripts may call.

A built-in is registered with `@builtin(name, ret, params)`; the semantic pass
reads the signature (stap types: "long", "string", "void"), the code generator
binds `impl` once at start-up, and a hit calls it directly.

Built-ins that need the session or the probe context (exit, pid, pp, ...) are
registered with `needs_ctx=True`; their implementation receives the per-hit
`Context` (uprobe_py.runtime.context) as its first argument.

Functions may be overloaded by arity, as stap allows: (name, len(params)) is
the key. Nothing here walks the AST.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

LONG = "long"
STRING = "string"
VOID = "void"


@dataclass(frozen=True)
class Builtin:
    name: str
    ret: str
    params: tuple[str, ...]
    impl: Callable[..., object]
    needs_ctx: bool = False
    # The family this function belongs to in `man 3stap function::NAME`, for docs.
    group: str = ""


BUILTINS: dict[tuple[str, int], Builtin] = {}


def builtin(name: str, ret: str, params: tuple[str, ...] = (), *,
            needs_ctx: bool = False, group: str = "") -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register the decorated function as the stap function NAME."""
    def register(fn: Callable[..., object]) -> Callable[..., object]:
        key = (name, len(params))
        if key in BUILTINS:
            raise RuntimeError(f"built-in {name}/{len(params)} registered twice")
        BUILTINS[key] = Builtin(name, ret, tuple(params), fn, needs_ctx, group)
        return fn
    return register


def find_builtin(name: str, arity: int) -> Builtin | None:
    load_all()
    return BUILTINS.get((name, arity))


def builtin_arities(name: str) -> list[int]:
    load_all()
    return sorted(n for (fname, n) in BUILTINS if fname == name)


_loaded = False


def load_all() -> None:
    """Import every module that registers built-ins (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil
    import uprobe_py.builtins as pkg
    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        if mod.startswith("fn_"):
            importlib.import_module(f"uprobe_py.builtins.{mod}")
