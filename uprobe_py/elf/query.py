"""Resolve a `function("PATTERN")` / `statement("PATTERN")` against one binary, as stap does.

This is stap's dwarf_query (tapsets.cxx) over `DwarfIndex` records:
  - PATTERN is `[scope::]*func[@file[:line|+rel|:*|:N-M,...]]` (parse_function_spec);
    `func` may hold fnmatch wildcards, a `_Z...` pattern matches linkage names, and a
    file pattern also matches with an implicit leading `*/`;
  - per CU: the matching functions (by DWARF name, or by the names of ELF symbols
    aliasing the function's address, as stap's update_symtab adds them), filtered by
    source file and C++ scopes, deduplicated by entry address; inline functions
    contribute their inline instances (unless `.call`/`.return`); `.inline` keeps only
    those; a function probe goes after the prologue when the CU has no location lists;
  - statement probes take the line table's rows (lowest address of each line inside
    the function), `:*` walks consecutive lines, and a missing line suggests neighbours;
  - then the symbol table: function symbols with no DWARF function at their address.
Each result is a `Site`; no match gives the names stap suggests (its levenshtein).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Optional

from . import dies as D
from .dwarf_index import CURecord, DwarfIndex, Func
from .image import ElfImage


class QueryError(Exception):
    pass


def has_wildcard(s: str) -> bool:
    return any(c in s for c in "*?[")


def match(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


def tokenize_cxx(s: str) -> list[str]:
    """Split `a::b<c::d>::e` on the `::` outside template brackets."""
    out, cur, depth, i = [], "", 0, 0
    while i < len(s):
        c = s[i]
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
        if depth == 0 and s.startswith("::", i):
            out.append(cur)
            cur = ""
            i += 2
            continue
        cur += c
        i += 1
    if cur:
        out.append(cur)
    return out


@dataclass
class Spec:
    text: str
    scopes: list[str] = field(default_factory=list)
    function: str = ""
    file: str = ""
    kind: str = "alone"            # alone | file | file_line
    lineno: str = "absolute"       # absolute | relative | wildcard | enumerated
    linenos: list[int] = field(default_factory=list)


def parse_spec(spec: str) -> Spec:
    """dwarf_query::parse_function_spec; raises QueryError("malformed specification ...")."""
    s = Spec(spec)
    bad = QueryError(f"malformed specification '{spec}'")
    scope_pos = spec.rfind("::")
    if scope_pos != -1:
        s.scopes = tokenize_cxx(spec[:scope_pos])
        scope_pos += 2
    else:
        scope_pos = 0
    src = spec.find("@", scope_pos)
    if src == -1:
        s.function = spec[scope_pos:]
    else:
        s.function = spec[scope_pos:src]
        line_pos = -1
        for i in range(src, len(spec)):
            if spec[i] in ":+":
                line_pos = i
                break
        if line_pos == -1:
            s.file, s.kind = spec[src + 1:], "file"
        else:
            s.file, s.kind = spec[src + 1:line_pos], "file_line"
            rest = spec[line_pos + 1:]
            if spec[line_pos] == "+":
                s.lineno = "relative"
            elif rest == "*":
                s.lineno = "wildcard"
            try:
                if s.lineno != "wildcard":
                    if "," in rest or "-" in rest:
                        s.lineno = "enumerated"
                        for part in (p for p in rest.split(",") if p):
                            ends = [e for e in part.split("-") if e]
                            lo, hi = int(ends[0]), int(ends[-1])
                            s.linenos.extend(range(lo, hi + 1))
                        s.linenos.sort()
                    else:
                        s.linenos = [int(rest), int(rest)]
            except (ValueError, IndexError):
                raise bad from None
    if not s.function or (s.kind != "alone" and not s.file):
        raise bad
    return s


@dataclass
class Site:
    pp_func: str          # the function(...) / statement(...) argument of the probe's pp
    canon: str            # the same for stap's derivation comment (differs for _Z patterns)
    addr: int             # ELF vaddr of the probe
    cu: Optional[int] = None
    func_die: Optional[int] = None
    scope_die: Optional[int] = None
    entrypc: Optional[int] = None


def final_name(func: str, file: str, line: int) -> str:
    if not file:
        return func
    return f"{func}@{file}" + (f":{line}" if line > 0 else "")


@dataclass
class _Hit:                 # stap's func_info / inline_instance_info for one CU
    f: Func
    name: str               # with matched scopes prepended
    file: str
    line: int
    entrypc: int
    die: int
    inline: bool = False


class Query:
    def __init__(self, image: ElfImage, index: Optional[DwarfIndex], spec: Spec, statement: bool,
                 call: bool = False, inline: bool = False, ret: bool = False) -> None:
        self.image, self.index, self.spec = image, index, spec
        self.statement, self.call, self.inline, self.ret = statement, call, inline, ret
        self.sites: list[Site] = []
        self.alias_dupes: set[int] = set()
        self.inline_dupes: set[tuple] = set()
        self._linked_all: Optional[set[int]] = None
        self.scanned_all = False

    # --- entry ---------------------------------------------------------------------
    def run(self) -> list[Site]:
        sp = self.spec
        if self.index is not None:
            if sp.kind == "alone" and not has_wildcard(sp.function) and not sp.function.startswith("_Z"):
                order = self.candidate_cus(sp.function)
            else:
                order = self.index.cu_offsets()
                self.scanned_all = True
            for off in order:
                self.query_cu(self.index.cu(off))
        if not self.statement and sp.kind == "alone":
            self.query_symtab()
        return self.sites

    def candidate_cus(self, name: str) -> list[int]:
        """The CUs that can define `name`, without reading DIEs: those holding the code of
        symbols `name` / `name.<clone>`, and, unless `name` is an exported (global or weak)
        symbol, whose declarations are what the other references to its string are, every
        CU that refers to the string (inline copies, static functions, symbol-less code)."""
        assert self.index is not None
        offs: set[int] = set()
        exported = False
        for sym in self.image.symbols_by_base.get(name, []):
            if sym.defined:
                offs.update(self.index.cus_for_addr(sym.addr))
                exported = exported or (sym.name == name and sym.bind in (1, 2))
        if not exported:
            offs.update(self.index.cus_for_name(name))
        return [o for o in self.index.cu_offsets() if o in offs]

    def aliases(self, f: Func) -> list[str]:
        if f.inline or f.dw_entry is None:
            return []
        return [s.name for s in self.image.symbols_by_addr.get(f.dw_entry, [])]

    def _name_matches(self, f: Func) -> bool:
        pat = self.spec.function
        if not has_wildcard(pat) and not pat.startswith("_Z"):
            return f.name == pat or pat in self.aliases(f)
        if pat.startswith("_Z"):                 # C++ linkage names (iterate_over_functions)
            return f.name == pat or (f.linkage is not None and match(f.linkage, pat))
        return match(f.name, pat) or any(match(a, pat) for a in self.aliases(f))

    def _scoped_name(self, f: Func) -> Optional[str]:
        """dwflpp::function_scope_matches: the name with the matched scopes, or None."""
        name = f.name
        scopes = self.spec.scopes
        chain = f.scopes
        for k, i in enumerate(range(len(scopes) - 1, -1, -1)):
            have = chain[k] if k < len(chain) else ""
            if not (match(have, scopes[i]) if has_wildcard(scopes[i]) else have == scopes[i]):
                return None
            name = have + "::" + name
            if k >= len(chain) and i > 0:
                return None
        return name

    # --- one CU ----------------------------------------------------------------------
    def query_cu(self, rec: CURecord) -> None:
        idx = self.index
        assert idx is not None
        sp = self.spec
        srcfiles: list[str] = []
        if sp.kind != "alone":
            files = idx.lines(rec.off).files
            pats = (sp.file, "*/" + sp.file)
            srcfiles = sorted({f for f in files if f and f != "???" and any(match(f, p) for p in pats)})
            if not srcfiles:
                return
        funcs: list[_Hit] = []
        inlines: list[_Hit] = []
        for f in rec.funcs:
            if not self._name_matches(f):
                continue
            if sp.kind != "alone" and f.file and f.file not in srcfiles:
                continue
            name = self._scoped_name(f) if sp.scopes else f.name
            if name is None:
                continue
            if not f.inline and f.dw_entry is not None:
                if f.dw_entry in self.alias_dupes:
                    continue
                self.alias_dupes.add(f.dw_entry)
            file, line = idx.function_file(rec, f), idx.function_line(rec, f)
            if f.inline and not self.call and not self.ret:
                for off, entry in rec.inlines.get(f.off, []):
                    if entry and (entry, line, name, file) not in self.inline_dupes:
                        self.inline_dupes.add((entry, line, name, file))
                        inlines.append(_Hit(f, name, file, line, entry, off, True))
            elif not f.inline and not self.inline and f.entry is not None:
                sym = self.image.symbol_at(f.entry)
                if sym is not None and ".part." in sym.name:
                    continue
                funcs.append(_Hit(f, name, file, line, f.entry, f.off))
        if funcs and not self.statement and not rec.valid_locs:
            for h in funcs:
                idx.prologue_end(rec, h.f)
        fully = (not self.statement and sp.kind == "file_line" and not has_wildcard(sp.function)
                 and len(srcfiles) == 1 and funcs and sp.lineno == "absolute" and funcs[0].line == sp.linenos[0])
        if sp.kind == "file_line" and not fully and self.statement:
            for srcfile in srcfiles:
                self.srcfile_lines(rec, srcfile, funcs + inlines)
            return
        searched = not self.statement and not rec.valid_locs       # stap's prologue searching
        for h in funcs:
            pro = h.f.prologue if searched and h.f.prologue not in (None, -1) else None
            addr = h.entrypc if (pro is None or self.ret) else pro
            self.add(h, addr, h.line, rec, h.die)
        if not self.call:
            for h in inlines:
                self.add(h, h.entrypc, h.line, rec, h.die)

    def add(self, h: _Hit, addr: int, line: int, rec: CURecord, scope: int) -> None:
        pp_func = h.name
        if self.spec.function.startswith("_Z") and h.f.linkage:
            pp_func = h.f.linkage
        canon = final_name(h.name, h.file, line)
        self.sites.append(Site(canon if pp_func is h.name else final_name(pp_func, h.file, line), canon,
                               addr, rec.off, h.die, scope, h.entrypc))

    # --- statements -------------------------------------------------------------------
    def srcfile_lines(self, rec: CURecord, srcfile: str, hits: list[_Hit]) -> None:
        idx = self.index
        assert idx is not None
        lt = idx.lines(rec.off)
        cur = [h for h in hits if h.file == srcfile]
        if not cur:
            return
        ranges = {h.die: idx.die_ranges(h.die) for h in cur}
        inside = {h.die: (lambda r: (lambda a: D.has_pc(r, a)))(ranges[h.die]) for h in cur}
        sp = self.spec
        found = []
        if sp.lineno in ("absolute", "relative"):
            for h in cur:
                n = sp.linenos[0] + (h.line if sp.lineno == "relative" else 0)
                row = lt.line_in(srcfile, n, inside[h.die])
                if row is not None:
                    found.append(row)
        elif sp.lineno == "wildcard":
            for h in cur:
                found.extend(lt.all_lines_in(srcfile, h.entrypc, inside[h.die]))
        else:
            for n in sorted(set(sp.linenos)):
                for h in cur:
                    row = lt.line_in(srcfile, n, inside[h.die])
                    if row is not None:
                        found.append(row)
        if not found:
            if sp.lineno in ("absolute", "relative"):
                n = sp.linenos[0] + (cur[0].line if sp.lineno == "relative" else 0)
                lo, hi = lt.nearest_lines(srcfile, n, list(inside.values()))
                alts = " or ".join(f":{x}" for x in (lo, hi) if x > 0)
                raise QueryError(f"no line records for {srcfile}:{n} [man error::dwarf]"
                                 + (f" (try {alts})" if alts else ""))
            return
        seen: set[int] = set()
        from .dwarf_vars import inner_scope
        for row in found:
            if row.addr in seen:
                continue
            seen.add(row.addr)
            for h in hits:
                if D.has_pc(ranges.get(h.die) or idx.die_ranges(h.die), row.addr):
                    scope = inner_scope(idx.die(h.die), row.addr, idx.dwarfinfo).offset
                    self.add(h, row.addr, row.line, rec, scope)

    # --- the symbol table -------------------------------------------------------------
    def _has_dwarf_function(self, addr: int) -> bool:
        """Does a DWARF function claim this symbol's address? stap's update_symtab links a
        function to the symbols at its entry pc, or at the address of the symbol named like
        its linkage (else DWARF) name, and the symbol table then skips them."""
        if self.index is None:
            return False
        by_name = self.image.symbols_by_name
        if self.scanned_all:
            if self._linked_all is None:
                linked: set[int] = set()
                for rec in self.index.all_records():
                    for f in rec.funcs:
                        if not f.inline:
                            if f.dw_entry is not None:
                                linked.add(f.dw_entry)
                            linked.update(x.addr for x in by_name.get(f.linkage or f.name, []) if x.defined)
                self._linked_all = linked
            return addr in self._linked_all
        here = {x.name for x in self.image.symbols_by_addr.get(addr, [])}
        for off in self.index.cus_for_addr(addr):
            for f in self.index.cu(off).funcs:
                if not f.inline and (f.dw_entry == addr or (f.linkage or f.name) in here):
                    return True
        return False

    def query_symtab(self) -> None:
        pat = self.spec.text                      # stap matches the whole function string here
        # stap compares the module-relative address of each probe so far with the symbol's
        # address: equal for ET_DYN, never for ET_EXEC (there an inline instance and a
        # symbol at one address both get a probe); mirrored, quirk included
        probed = {self.image.offset_of(s.addr) for s in self.sites}
        if has_wildcard(pat):
            cands = sorted((s for s in self.image.symbols if s.defined and match(s.name, pat)),
                           key=lambda s: s.addr)
        else:
            cands = [s for s in self.image.symbols_by_name.get(pat, []) if s.defined]
        for sym in cands:
            if sym.addr in probed or sym.addr in self.alias_dupes or self._has_dwarf_function(sym.addr):
                continue
            self.alias_dupes.add(sym.addr)
            self.sites.append(Site(sym.name, sym.name, sym.addr, entrypc=sym.addr))

    # --- no match ------------------------------------------------------------------------
    def suggestions(self) -> str:
        target = self.spec.text.split("@", 1)[0]
        names = {s.name for s in self.image.symbols}
        if self.index is not None:
            info = self.index.delf.elf.get_section_by_name(".debug_info") if self.index.delf else None
            if info is not None and info["sh_size"] < 4 << 20:
                recs = list(self.index.all_records())
            else:
                recs = list(self.index.records.values())
            for rec in recs:
                names.update(f.name for f in rec.funcs if f.inline)
        return levenshtein_suggest(target, names, 5)


def levenshtein(a: str, b: str) -> int:
    """stap's levenshtein (util.cxx): edits cost 2 (1 for a case change), borders 1 per step."""
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        ca = a[i - 1]
        for j in range(1, len(b) + 1):
            cb = b[j - 1]
            if ca == cb:
                cur[j] = prev[j - 1]
            else:
                sub = 1 if ca.lower() == cb.lower() else 2
                cur[j] = min(prev[j - 1] + sub, prev[j] + 2, cur[j - 1] + 2)
        prev = cur
    return prev[-1]


def levenshtein_suggest(target: str, elems: set[str], mx: int = 5, threshold: int = 2**32 - 1) -> str:
    """stap's levenshtein_suggest, pruning quirks included (they decide ties)."""
    scores: list[tuple[int, int, str]] = []
    seq = 0
    for e in sorted(elems):
        if not e:
            continue
        min_score = abs(len(target) - len(e))
        if min_score > threshold:
            continue
        maxth = 2**32 - 1
        if len(scores) >= mx:
            maxth = sorted(scores)[mx - 1][0]
        if min_score > maxth:
            continue
        sc = levenshtein(target, e)
        if sc > maxth or sc > threshold:
            continue
        scores.append((sc, seq, e))
        seq += 1
    return ", ".join(e for _, _, e in sorted(scores)[:mx])
