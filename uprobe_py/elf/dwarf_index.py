"""A per-binary index of DWARF functions, built one compilation unit at a time and cached.

stap's resolution needs, per CU: the functions libdw's dwarf_getfuncs reports (name,
linkage name, decl file/line, entry pc, inline or not, C++ enclosing scopes), the
inline instances of each inline function (stap's cache_inline_instances walk), and
whether the CU has location lists (dwflpp::has_valid_locs, which decides whether a
function probe goes after the prologue). `DwarfIndex.cu(offset)` computes that
record for one CU on first use; nothing else is parsed.

Which CUs to read: all of them for a wildcard; for a plain name, only the CUs whose
.debug_info refers to that name's string in .debug_str (found with two bytes.find
scans, no DIE parsing), plus the CUs holding the addresses of symbols of that name.

Records live in memory and, keyed by build-id, in $XDG_CACHE_HOME/uprobe-py (else
~/.cache/uprobe-py), so a second run over the same binary reads no DWARF to resolve
function probes (prologue ends and -L variable lists are cached as they are computed).
"""
from __future__ import annotations

import os
import pickle
import struct
import tempfile
from typing import Any, Iterable, Optional

from . import dies as D
from . import scan as S
from .image import ElfImage
from .lines import LineTable, file_names

CACHE_VERSION = 4
C_LANGS = {0x1, 0x2, 0xC, 0x1D}          # DW_LANG_C89, C, C99, C11: libdw's "pure C" CUs
C_FUNC_TAGS = {"DW_TAG_subprogram", "DW_TAG_lexical_block", "DW_TAG_inlined_subroutine"}
SCOPE_TAGS = {"DW_TAG_compile_unit", "DW_TAG_module", "DW_TAG_lexical_block", "DW_TAG_with_stmt",
              "DW_TAG_catch_block", "DW_TAG_try_block", "DW_TAG_entry_point", "DW_TAG_inlined_subroutine",
              "DW_TAG_subprogram", "DW_TAG_namespace", "DW_TAG_class_type", "DW_TAG_structure_type"}
INLINE_TAGS = {"DW_TAG_compile_unit", "DW_TAG_module", "DW_TAG_lexical_block", "DW_TAG_with_stmt",
               "DW_TAG_catch_block", "DW_TAG_try_block", "DW_TAG_entry_point", "DW_TAG_inlined_subroutine",
               "DW_TAG_subprogram"}
PARENT_SCOPE_TAGS = ("DW_TAG_namespace", "DW_TAG_class_type", "DW_TAG_structure_type")
UNSET = -1


class Func:
    """One DWARF function (a defining DW_TAG_subprogram with a name)."""
    __slots__ = ("off", "name", "linkage", "file", "line", "entry", "dw_entry", "low", "inline",
                 "scopes", "prologue")

    def __init__(self, off: int, name: str, linkage: Optional[str], file: Optional[str],
                 line: Optional[int], entry: Optional[int], dw_entry: Optional[int], low: Optional[int],
                 inline: bool, scopes: tuple[str, ...]) -> None:
        self.off, self.name, self.linkage, self.file, self.line = off, name, linkage, file, line
        self.entry, self.dw_entry, self.low, self.inline, self.scopes = entry, dw_entry, low, inline, scopes
        self.prologue: Optional[int] = UNSET      # computed on demand (None: no prologue found)

    def __getstate__(self) -> tuple:
        return (self.off, self.name, self.linkage, self.file, self.line, self.entry, self.dw_entry, self.low,
                self.inline, self.scopes, self.prologue)

    def __setstate__(self, st: tuple) -> None:
        (self.off, self.name, self.linkage, self.file, self.line, self.entry, self.dw_entry, self.low,
         self.inline, self.scopes, self.prologue) = st


class CURecord:
    __slots__ = ("off", "name", "c_lang", "gcc_version", "valid_locs", "funcs", "inlines")

    def __init__(self, off: int, name: str, c_lang: bool, gcc_version: Optional[tuple[int, ...]],
                 valid_locs: bool, funcs: list[Func], inlines: dict[int, list[tuple[int, Optional[int]]]]) -> None:
        self.off, self.name, self.c_lang, self.gcc_version = off, name, c_lang, gcc_version
        self.valid_locs, self.funcs, self.inlines = valid_locs, funcs, inlines

    def __getstate__(self) -> tuple:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, st: tuple) -> None:
        for s, v in zip(self.__slots__, st):
            setattr(self, s, v)


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "uprobe-py")


def gcc_version(producer: Optional[str]) -> Optional[tuple[int, ...]]:
    """dwflpp::is_gcc_producer: "GNU <lang> X.Y.Z ..." gives (X, Y, Z)."""
    if not producer:
        return None
    toks = producer.split()
    if len(toks) < 3 or toks[0] != "GNU" or not all(c in "0123456789." for c in toks[2]):
        return None
    return tuple(int(p) for p in toks[2].split(".") if p)


class DwarfIndex:
    def __init__(self, image: ElfImage, use_cache: bool = True) -> None:
        self.image = image
        self.delf = image.dwarf_elf
        self.use_cache = use_cache
        self._dwarfinfo: Any = None
        self._cus: Optional[dict[int, Any]] = None
        self._cu_order: Optional[list[int]] = None
        self._lines: dict[int, LineTable] = {}
        self.records: dict[int, CURecord] = {}
        self.lookups: dict[str, list[int]] = {}
        self.vars: dict[tuple[int, int, int], list[str]] = {}
        self.dirty = False
        self.queries: dict[tuple, list] = {}     # resolved probe sites by query (process.py)
        self._loaded_path: Optional[str] = None
        self._scanner: Any = None             # scan.Scanner, False when unavailable
        self._tops: dict[int, Optional[list[int]]] = {}
        if use_cache and self.delf is not None:
            self._load_cache()

    # --- the fast reader (scan.py / dwarfscan.c) --------------------------------------
    @property
    def scanner(self) -> Any:
        """The C reader over this binary's DWARF, or None (then pyelftools does everything)."""
        if self._scanner is None:
            self._scanner = False
            if self.delf is not None and os.environ.get("UPROBE_PY_NO_DWARFSCAN") is None:
                try:
                    self._scanner = S.Scanner.open(self.delf.elf) or False
                except Exception:            # unreadable sections: pyelftools decides
                    self._scanner = False
        return self._scanner or None

    # --- pyelftools plumbing ---------------------------------------------------
    @property
    def dwarfinfo(self) -> Any:
        if self._dwarfinfo is None:
            assert self.delf is not None
            self._dwarfinfo = self.delf.elf.get_dwarf_info(relocate_dwarf_sections=False)
        return self._dwarfinfo

    def cu_offsets(self) -> list[int]:
        if self._cu_order is None:
            sc = self.scanner
            if sc is not None:
                self._cu_order = [u[0] for u in sc.units]
            else:
                self._load_cu_objects()
        assert self._cu_order is not None
        return self._cu_order

    def _load_cu_objects(self) -> None:
        self._cus = {}
        for cu in self.dwarfinfo.iter_CUs():
            self._cus[cu.cu_offset] = cu
        if self._cu_order is None:
            self._cu_order = list(self._cus)

    def cu_object(self, off: int) -> Any:
        """pyelftools' CompileUnit at a unit offset."""
        if self._cus is None:
            self._load_cu_objects()
        assert self._cus is not None
        return self._cus[off]

    def die(self, off: int) -> Any:
        return self.dwarfinfo.get_DIE_from_refaddr(off)

    def lines(self, cu_off: int) -> LineTable:
        lt = self._lines.get(cu_off)
        if lt is None:
            lt = self._fast_lines(cu_off)
            if lt is None:
                lt = LineTable(self.dwarfinfo, self.cu_object(cu_off))
            self._lines[cu_off] = lt
        return lt

    def _top(self, cu_off: int) -> Optional[list[int]]:
        if cu_off not in self._tops:
            sc = self.scanner
            self._tops[cu_off] = sc.top(cu_off) if sc is not None else None
        return self._tops[cu_off]

    def _fast_lines(self, cu_off: int) -> Optional[LineTable]:
        """The CU's line table through the C decoder (None: let pyelftools do it)."""
        top = self._top(cu_off)
        if top is None:
            return None
        sc = self.scanner
        if top[5] == S.NONE:
            return LineTable.from_rows([], [])
        raw = sc.line(top[5], sc.unit_at[cu_off][5], True)
        if raw is None:
            return None
        files, i = sc.file_table(raw, sc.string(top[4]))
        return LineTable.from_rows(files, raw[i + 1:i + 1 + 4 * raw[i]])

    def _fast_files(self, cu_off: int, stmt: int, comp_dir: Optional[str]) -> Optional[list[Optional[str]]]:
        if stmt == S.NONE:
            return []
        sc = self.scanner
        raw = sc.line(stmt, sc.unit_at[cu_off][5], False)
        if raw is None:
            return None
        return sc.file_table(raw, comp_dir)[0]

    # --- which CUs ---------------------------------------------------------------
    def cus_for_name(self, name: str) -> list[int]:
        """CUs that may define a function called `name` (a superset; never misses one)."""
        got = self.lookups.get(name)
        if got is not None:
            return got
        offs = self.cu_offsets()
        info = self._section(".debug_info")
        strs = self._section(".debug_str")
        sc = self.scanner
        if info is None or self._section(".debug_str_offsets") is not None \
                or (any(u[6] == 8 for u in sc.units) if sc is not None
                    else any(self.cu_object(o).structs.dwarf_format == 64 for o in offs)):
            result = list(offs)
        else:
            hits: set[int] = set()
            key = name.encode("utf-8") + b"\0"
            positions = []
            if strs is not None:
                p = strs.find(key)
                while p != -1:
                    positions.append(p)
                    p = strs.find(key, p + 1)
            needles = [struct.pack("<I", p) for p in positions] + [key]
            for needle in needles:
                q = info.find(needle)
                while q != -1:
                    hits.add(q)
                    q = info.find(needle, q + 1)
            result = sorted({self._cu_containing(offs, q) for q in hits})
        self.lookups[name] = result
        self.dirty = True
        return result

    def cus_for_addr(self, addr: int) -> list[int]:
        ar = self.dwarfinfo.get_aranges() if self._section(".debug_aranges") is not None else None
        if ar is not None:
            off = ar.cu_offset_at_addr(addr)
            if off is not None:
                return [off]
        out = []
        for off in self.cu_offsets():
            top = self.cu_object(off).get_top_DIE()
            if D.has_pc(D.die_ranges(top, self.dwarfinfo), addr):
                out.append(off)
        return out

    @staticmethod
    def _cu_containing(offs: list[int], pos: int) -> int:
        import bisect
        i = bisect.bisect_right(offs, pos) - 1
        return offs[max(i, 0)]

    def _section(self, name: str) -> Optional[bytes]:
        assert self.delf is not None
        sc = self.scanner
        if sc is not None and name in S.SECTIONS:
            return sc.section(S.SECTIONS.index(name))
        sec = self.delf.elf.get_section_by_name(name)
        if sec is None or sec["sh_type"] == "SHT_NOBITS":
            return None
        if sec["sh_flags"] & 0x800:          # SHF_COMPRESSED: let pyelftools decompress
            return bytes(sec.data())
        return sec.data()

    # --- per-CU records ------------------------------------------------------------
    def cu(self, off: int) -> CURecord:
        rec = self.records.get(off)
        if rec is None:
            rec = self.records[off] = self._scan_cu(off)
            self.dirty = True
        return rec

    def _scan_cu(self, off: int) -> CURecord:
        """One CU's record: the C reader's, else (it declined) pyelftools'."""
        rec = self._fast_scan_cu(off)
        if rec is None:
            rec = self._scan_cu_pyelftools(self.cu_object(off))
        return rec

    def _fast_scan_cu(self, off: int) -> Optional[CURecord]:
        sc = self.scanner
        if sc is None:
            return None
        raw = sc.scan_cu(off)
        if raw is None:
            return None
        NONE = S.NONE
        string = sc.string
        _, name_r, lang, prod_r, comp_r, stmt, loclist, nfunc, ninl = raw[:9]
        c_cu = lang != NONE and lang in C_LANGS
        gv = gcc_version(string(prod_r))
        files = self._fast_files(off, stmt, string(comp_r))
        if files is None:
            return None
        inlines: dict[int, list[tuple[int, Optional[int]]]] = {}
        i = 9
        for _ in range(ninl):
            origin, doff, entry = raw[i], raw[i + 1], raw[i + 2]
            i += 3
            got = inlines.get(origin)
            if got is None:
                got = inlines[origin] = []
            got.append((doff, None if entry == NONE else entry))
        nfiles = len(files)
        recs: list[Func] = []
        for _ in range(nfunc):
            foff, flags, nm, link, dfile, dline, dw, low, entry, nsc = raw[i:i + 10]
            i += 10
            scopes: tuple[str, ...] = ()
            if nsc:
                scopes = tuple(string(r) or "" for r in raw[i:i + nsc])
                i += nsc
            file = None
            if flags & 1:
                if flags & 64:
                    dfile = S._signed(dfile)
                if 0 < dfile < nfiles:
                    file = files[dfile]
            line = None
            if flags & 2:
                line = S._signed(dline) if flags & 128 else dline
            recs.append(Func(foff, string(nm) or "", string(link), file, line,
                             entry if flags & 16 else None, dw if flags & 4 else None,
                             low if flags & 8 else None, bool(flags & 32), scopes))
        valid = bool(loclist) and not (gv is not None and gv < (4, 5))
        cu_name = string(name_r) if name_r != NONE else "<unknown source>"
        return CURecord(off, cu_name if cu_name is not None else "<unknown source>", c_cu, gv, valid, recs, inlines)

    def _scan_cu_pyelftools(self, cu: Any) -> CURecord:
        top = cu.get_top_DIE()
        lang = top.attributes.get("DW_AT_language")
        c_cu = lang is not None and lang.value in C_LANGS
        prod = top.attributes.get("DW_AT_producer")
        gv = gcc_version(D.text(prod.value) if prod is not None else None)
        files = file_names(self.dwarfinfo, cu)
        funcs: list[Any] = []
        inlines: dict[int, list[tuple[int, Optional[int]]]] = {}
        parents: dict[int, Any] = {}
        loclist = [False]

        def walk(die: Any, f_ok: bool, i_ok: bool) -> None:
            for child in die.iter_children():
                tag = child.tag
                parents[child.offset] = die
                if not loclist[0] and tag in ("DW_TAG_formal_parameter", "DW_TAG_variable") \
                        and D.has_loclist(child):
                    loclist[0] = True
                fo = f_ok and (not c_cu or tag in C_FUNC_TAGS)
                if fo and tag == "DW_TAG_subprogram" and "DW_AT_declaration" not in child.attributes:
                    funcs.append(child)
                io = i_ok and tag in INLINE_TAGS
                if io and tag == "DW_TAG_inlined_subroutine" and "DW_AT_abstract_origin" in child.attributes:
                    try:
                        origin = child.get_DIE_from_attribute("DW_AT_abstract_origin").offset
                    except Exception:
                        origin = None
                    if origin is not None:
                        inlines.setdefault(origin, []).append((child.offset, self._die_entrypc(child)))
                if child.has_children and ((fo and tag in SCOPE_TAGS) or io):
                    walk(child, fo and tag in SCOPE_TAGS, io)

        walk(top, True, True)
        recs = [r for r in (self._func_record(f, files, parents, c_cu) for f in funcs) if r is not None]
        valid = loclist[0] and not (gv is not None and gv < (4, 5))
        name = D.text(top.attributes["DW_AT_name"].value) if "DW_AT_name" in top.attributes else "<unknown source>"
        return CURecord(cu.cu_offset, name, c_cu, gv, valid, recs, inlines)

    def _func_record(self, die: Any, files: list[Optional[str]], parents: dict[int, Any], c_cu: bool) -> Optional[Func]:
        name = D.die_name(die)
        if name is None:
            return None
        fa = D.attr_integrate(die, "DW_AT_decl_file")
        idx = fa.value if fa is not None else 0
        file = files[idx] if 0 < idx < len(files) else None         # libdw: index 0 is "none"
        la = D.attr_integrate(die, "DW_AT_decl_line")
        dw_entry = D.dwarf_entrypc(die)
        return Func(die.offset, name, D.linkage_name(die), file, la.value if la is not None else None,
                    self._function_entrypc(die, dw_entry), dw_entry, D.low_pc(die), D.func_inline(die),
                    () if c_cu else self._scope_chain(die, parents))

    def _function_entrypc(self, die: Any, dw_entry: Optional[int]) -> Optional[int]:
        """dwflpp::function_entrypc (0 is an eliminated COMDAT copy: rejected)."""
        if dw_entry:
            return dw_entry
        if D.low_pc(die) is not None:
            return None                       # low_pc 0: dwarf_ranges gives start 0
        if "DW_AT_ranges" in die.attributes:
            base = D.cu_base(die.cu)
            if base:
                return base
            r = D.die_ranges(die, self.dwarfinfo)
            return r[0][0] if r and r[0][0] else None
        return None

    def _die_entrypc(self, die: Any) -> Optional[int]:
        """dwflpp::die_entrypc: dwarf_entrypc, else the first range; 0 rejected."""
        e = D.dwarf_entrypc(die)
        if e is None:
            r = D.die_ranges(die, self.dwarfinfo) if ("DW_AT_ranges" in die.attributes) else []
            e = r[0][0] if r else None
        return e or None

    def _scope_chain(self, die: Any, parents: dict[int, Any]) -> tuple[str, ...]:
        """Names of the enclosing namespaces/classes, innermost first (dwflpp::get_parent_scope)."""
        out: list[str] = []
        d = die
        for _ in range(64):
            spec = D.ref_integrate(d, "DW_AT_specification")     # dwarf_attr_die integrates
            if spec is not None:
                d = spec
            p = parents.get(d.offset)
            while p is not None and p.tag not in PARENT_SCOPE_TAGS:
                p = parents.get(p.offset)
            if p is None:
                break
            out.append(D.die_name(p) or "")
            d = p
        return tuple(out)

    def die_ranges(self, off: int) -> list[tuple[int, int]]:
        sc = self.scanner
        if sc is not None:
            got = sc.die_ranges(off)
            if got is not None:
                return got
        return D.die_ranges(self.die(off), self.dwarfinfo)

    def prologue_end(self, rec: CURecord, f: Func) -> Optional[int]:
        if f.prologue == UNSET:
            ranges = self.die_ranges(f.off)
            gv = rec.gcc_version
            f.prologue = self.lines(rec.off).prologue_end(
                f.entry or 0, self.function_file(rec, f), lambda a: D.has_pc(ranges, a),
                consider_decl_line=gv is not None and gv < (4, 4), decl_line=f.line or 0)
            self.dirty = True
        return f.prologue

    def function_file(self, rec: CURecord, f: Func) -> str:
        """dwflpp::function_file: decl_file, else the line table's file at low_pc."""
        if f.file is not None:
            return f.file
        row = self._row_at_low(rec, f)
        return row.file if row is not None else "<unknown source>"

    def function_line(self, rec: CURecord, f: Func) -> int:
        if f.line is not None:
            return f.line
        row = self._row_at_low(rec, f)
        return row.line if row is not None else 0

    def _row_at_low(self, rec: CURecord, f: Func) -> Any:
        """The line-table row at the function's low_pc (None: no low_pc or no row)."""
        return self.lines(rec.off).getsrc(f.low) if f.low is not None else None

    # --- the on-disk cache -----------------------------------------------------------
    def _cache_path(self) -> str:
        return os.path.join(cache_dir(), self.image.cache_key() + ".idx")

    def _load_cache(self) -> None:
        path = self._cache_path()
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError):
            return
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("path") != self.image.path:
            return
        self.records = data.get("records", {})
        self.lookups = data.get("lookups", {})
        self.vars = data.get("vars", {})
        self.queries = data.get("queries", {})
        self._loaded_path = path

    def save(self) -> None:
        """Write the index if anything new was computed (best effort: a cache, not a store)."""
        if not self.use_cache or not self.dirty or self.delf is None:
            return
        path = self._cache_path()
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"version": CACHE_VERSION, "path": self.image.path, "records": self.records,
                             "lookups": self.lookups, "vars": self.vars, "queries": self.queries}, f,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
            self.dirty = False
        except OSError:
            pass

    def all_records(self) -> Iterable[CURecord]:
        for off in self.cu_offsets():
            yield self.cu(off)
