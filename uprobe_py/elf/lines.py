"""A compilation unit's line table, read the way libdw presents it to stap.

`LineTable(dwarfinfo, cu)` decodes the CU's line program (pyelftools) into rows
`(addr, file, line, prologue_end, end_sequence)`, file names composed as libdw's
dwarf_filesrc does (directory entry + "/" + name unless absolute; DWARF 4's
directory 0 is DW_AT_comp_dir), sorted by address with an end_sequence first at a
shared address, otherwise stably (libdw's compare_lines).

On top of it, stap's uses of the table:
  - `prologue_end(...)`: dwflpp::resolve_prologue_endings for one function;
  - `getsrc(addr)`: dwarf_getsrc_die, the last row at or below an address;
  - `rows_for_file(file)`: the rows of one source file sorted by (line, addr), the
    index of statement probes (`func@file:N`, `:*`, `+N`, `N-M`).
"""
from __future__ import annotations

import bisect
from typing import Any, Callable, NamedTuple, Optional

from .dies import text


class Row(NamedTuple):
    addr: int
    file: str
    line: int
    prologue_end: bool
    end_sequence: bool


def file_names(dwarfinfo: Any, cu: Any, lp: Any = None) -> list[Optional[str]]:
    """The CU's file table as libdw's dwarf_getsrcfiles/dwarf_filesrc name the entries."""
    if lp is None:
        lp = dwarfinfo.line_program_for_CU(cu)
    if lp is None:
        return []
    h = lp.header
    version = h["version"]
    incs = [text(d) for d in h["include_directory"]]
    top = cu.get_top_DIE()
    comp = top.attributes.get("DW_AT_comp_dir")
    comp_dir = text(comp.value) if comp is not None else None
    dirs: list[Optional[str]] = incs if version >= 5 else [comp_dir] + incs
    out: list[Optional[str]] = [] if version >= 5 else [None]      # v4's file 0 is "???"
    for fe in h["file_entry"]:
        name = text(fe.name)
        d = dirs[fe.dir_index] if fe.dir_index < len(dirs) else None
        out.append(name if name.startswith("/") or d is None else d + "/" + name)
    return out


class LineTable:
    def __init__(self, dwarfinfo: Any, cu: Any) -> None:
        lp = dwarfinfo.line_program_for_CU(cu)
        self.files = file_names(dwarfinfo, cu, lp)
        rows: list[tuple[int, int, int, Row]] = []
        if lp is not None:
            files = self.files
            seq = 0
            for entry in lp.get_entries():
                st = entry.state
                if st is None:
                    continue
                f = files[st.file] if 0 <= st.file < len(files) else None
                rows.append((st.address, 0 if st.end_sequence else 1, seq,
                             Row(st.address, f or "???", st.line, bool(st.prologue_end), bool(st.end_sequence))))
                seq += 1
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        self.rows: list[Row] = [r[3] for r in rows]
        self.addrs: list[int] = [r.addr for r in self.rows]
        self._by_file: dict[str, list[Row]] = {}

    @classmethod
    def from_rows(cls, files: list[Optional[str]], flat: list[int]) -> "LineTable":
        """A table from the C decoder's rows (uprobe_py/elf/scan.py): `flat` holds
        (addr, file index, line, flags) per row, already in LineTable's order; flags:
        1 prologue_end, 2 end_sequence."""
        self = cls.__new__(cls)
        self.files = files
        nf = len(files)
        names = [f or "???" for f in files]
        addrs = flat[0::4]
        lines = [v - (1 << 64) if v >= 1 << 63 else v for v in flat[2::4]]
        new = Row._make
        self.rows = [new((a, names[f] if f < nf else "???", ln, bool(fl & 1), bool(fl & 2)))
                     for a, f, ln, fl in zip(addrs, flat[1::4], lines, flat[3::4])]
        self.addrs = addrs
        self._by_file = {}
        return self

    def file(self, index: int) -> Optional[str]:
        if index == 0 and self.files and self.files[0] is None:
            return None
        return self.files[index] if 0 <= index < len(self.files) else None

    def getsrc(self, addr: int) -> Optional[Row]:
        """dwarf_getsrc_die: the last row whose address is <= addr, unless it ends a sequence."""
        rows = self.rows
        if not rows:
            return None
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            i = 0
        row = rows[i]
        return row if row.addr <= addr and not row.end_sequence else None

    def prologue_end(self, entrypc: int, decl_file: str, in_func: Callable[[int], bool],
                     consider_decl_line: bool = False, decl_line: int = 0) -> Optional[int]:
        """stap's prologue search for a function starting at entrypc (None: use entrypc)."""
        addrs, rows, n = self.addrs, self.rows, len(self.rows)
        idx = bisect.bisect_left(addrs, entrypc)
        if idx >= n or addrs[idx] != entrypc or entrypc == 0:
            return None
        entry_line = rows[idx].line
        i = idx
        row = rows[idx]
        while i < n:
            row = rows[i]
            if not in_func(row.addr) or row.prologue_end or decl_file != row.file \
                    or row.line != entry_line or i != idx \
                    or (consider_decl_line and row.line != decl_line):
                break
            i += 1
        addr = row.addr
        if not in_func(addr):
            addr = rows[i - 1].addr
        return addr

    def rows_for_file(self, srcfile: str) -> list[Row]:
        got = self._by_file.get(srcfile)
        if got is None:
            got = sorted((r for r in self.rows if r.file == srcfile), key=lambda r: (r.line, r.addr))
            self._by_file[srcfile] = got
        return got

    def lines_at(self, srcfile: str, lineno: int) -> list[Row]:
        rows = self.rows_for_file(srcfile)
        keys = [r.line for r in rows]
        lo = bisect.bisect_left(keys, lineno)
        hi = bisect.bisect_right(keys, lineno)
        return rows[lo:hi]

    def first_line_of(self, entrypc: int, in_func: Callable[[int], bool]) -> Optional[Row]:
        """get_func_first_line: the row at entrypc, else the first row (by address) inside."""
        row = self.getsrc(entrypc)
        if row is not None and row.addr == entrypc:
            return row
        for r in self.rows:
            if in_func(r.addr):
                return r
        return None

    def all_lines_in(self, srcfile: str, entrypc: int, in_func: Callable[[int], bool]) -> list[Row]:
        """collect_all_lines for one function: each consecutive line number from its first."""
        start = self.first_line_of(entrypc, in_func)
        out: list[Row] = []
        if start is None:
            return out
        rows = self.rows_for_file(srcfile)
        keys = [r.line for r in rows]
        lineno = start.line
        while True:
            lo = bisect.bisect_left(keys, lineno)
            hi = bisect.bisect_right(keys, lineno)
            inside = [r for r in rows[lo:hi] if in_func(r.addr)]
            if not inside:
                break
            out.append(inside[0])
            if hi >= len(rows):
                break
            lineno = rows[hi].line
        return out

    def line_in(self, srcfile: str, lineno: int, in_func: Callable[[int], bool]) -> Optional[Row]:
        """add_matching_line_in_die: the lowest-addressed row of that line inside the function."""
        for r in self.lines_at(srcfile, lineno):
            if in_func(r.addr):
                return r
        return None

    def nearest_lines(self, srcfile: str, lineno: int, funcs: list[Callable[[int], bool]]) -> tuple[int, int]:
        """get_nearest_linenos: the closest lines within 5 below/above that have code in a function."""
        def has(n: int) -> bool:
            return any(any(f(r.addr) for f in funcs) for r in self.lines_at(srcfile, n))
        lo = hi = -1
        for i in range(1, 6):
            if lo == -1 and has(lineno - i):
                lo = lineno - i
            if hi == -1 and has(lineno + i):
                hi = lineno + i
        return lo, hi
