"""`kernel.X` probe points: routed to the family registered as "kernel.X".

The kernel's families live in their own modules (tracepoints: `kernel.trace`; kprobes:
`kernel.function`/`kernel.statement`; watchpoints: `kernel.data`), each registering its
dotted name; this module owns the first component and hands the point over.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..lexer import Token
from .registry import FAMILIES, ProbeResolveError, ProbeSpec, register


class KernelFamily:
    names = ("kernel",)

    def _target(self, components: list[Any]) -> Any:
        if len(components) > 1:
            return FAMILIES.get("kernel." + components[1].name)
        return None

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        fam = self._target(components)
        if fam is None:
            what = components[1].name if len(components) > 1 else ""
            raise ProbeResolveError(f"kernel.{what} probes are not available in uprobe-py"
                                    if what else "probe point truncated", tok)
        return fam.resolve(components, tok)

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional[Any]:
        return None        # the session asks the dotted family (ProbeSpec.family) itself


register(KernelFamily())
