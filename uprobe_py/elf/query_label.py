"""`function("PATTERN").label("LABEL")`: C labels inside the matched functions, as stap finds them.

The functions are those a `function("PATTERN")` probe matches (uprobe_py.elf.query.Query,
inline instances included); in each, the label DIEs are searched as stap does:
  - the function's (or inline instance's) own DIE tree, through lexical blocks and the
    like, but not into nested functions or inlined subroutines (those are instances of
    their own, found, or deduplicated, by the query);
  - a `DW_TAG_label` whose name (through its abstract origin) is LABEL, or matches it
    when LABEL has wildcards, and that has a `DW_AT_low_pc` (labels without an address,
    e.g. in inline copies where the code is gone, are dropped);
  - the label's scope for `$var` is the innermost lexical block of the label's parent
    that holds its address; a parent not holding it gives stap's "not contained by its
    scope" warning and the parent itself is the scope;
  - the pp names the function with the label's line (`find@/src/app.c:17`), and the
    label only in the derivation: `-p2` prints `function("find@/src/app.c:17")`,
    `-l` the point `function("find@/src/app.c:17").label("found")`;
  - stap's quirk kept: the symbol-table pass of the function query still adds
    symbol-only functions (no DWARF) at their entry, label or not.
Functions come first by address, then inline instances in DIE order (stap's order on gcc's output).
"""
from __future__ import annotations

from typing import Any, Optional

from . import dies as D
from .dwarf_index import CURecord
from .dwarf_vars import LEXICAL
from .query import Query, Site, _Hit, final_name, has_wildcard, match

STOP_TAGS = ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine")


class LabelQuery(Query):
    """A function query whose sites are the labels LABEL inside the matched functions."""

    def __init__(self, image: Any, index: Any, spec: Any, label: str) -> None:
        super().__init__(image, index, spec, False)
        self.label = label
        self.warnings: list[str] = []
        self._funcs: list[tuple[_Hit, CURecord]] = []
        self._inlines: list[tuple[_Hit, CURecord]] = []

    def run(self) -> list[Site]:
        super().run()                     # fills _funcs/_inlines (add), then symbol-only sites
        symtab = self.sites
        self.sites = []
        funcs = sorted(self._funcs, key=lambda x: x[0].entrypc)
        for h, rec in funcs + sorted(self._inlines, key=lambda x: x[0].die):
            self._labels_in(h, rec)
        self.sites += symtab
        return self.sites

    def add(self, h: _Hit, addr: int, line: int, rec: CURecord, scope: int) -> None:
        (self._inlines if h.inline else self._funcs).append((h, rec))

    def _name_ok(self, name: Optional[str]) -> bool:
        if not name:
            return False
        return match(name, self.label) if has_wildcard(self.label) else name == self.label

    def _labels_in(self, h: _Hit, rec: CURecord) -> None:
        assert self.index is not None
        top = self.index.die(h.die)
        stack = list(reversed(list(top.iter_children())))
        while stack:
            die = stack.pop()
            if die.tag == "DW_TAG_label":
                name = D.die_name(die)
                addr = D.low_pc(die)
                if self._name_ok(name) and addr is not None:
                    self._add_label(h, rec, die, name or "", addr)
            elif die.tag in STOP_TAGS:
                continue
            elif die.has_children:
                stack.extend(reversed(list(die.iter_children())))

    def _add_label(self, h: _Hit, rec: CURecord, die: Any, name: str, addr: int) -> None:
        assert self.index is not None
        dwarfinfo = self.index.dwarfinfo
        parent = die.get_parent()
        if parent is None:
            return
        if D.has_pc(D.die_ranges(parent, dwarfinfo), addr):
            scope = parent
            changed = True
            while changed:
                changed = False
                for child in scope.iter_children():
                    if child.tag in LEXICAL and D.has_pc(D.die_ranges(child, dwarfinfo), addr):
                        scope, changed = child, True
                        break
        else:
            scope = parent
            self.warnings.append(f"label '{name}' at address {addr:#x} (dieoffset: {die.offset:#x}) is not "
                                 f"contained by its scope '{D.die_name(parent) or '<unknown>'}' "
                                 f"(dieoffset: {parent.offset:#x}) -- bad debuginfo? [man error::dwarf]")
        a = D.attr_integrate(die, "DW_AT_decl_line")
        line = a.value if a is not None else 0
        pp_func = h.name
        if self.spec.function.startswith("_Z") and h.f.linkage:
            pp_func = h.f.linkage
        site = Site(final_name(pp_func, h.file, line), final_name(h.name, h.file, line), addr, rec.off,
                    h.die, scope.offset, h.entrypc)
        site.label = name                  # type: ignore[attr-defined]
        self.sites.append(site)
