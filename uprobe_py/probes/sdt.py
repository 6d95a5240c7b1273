"""SDT marker probes: `process("PATH").mark("NAME")`, `process("PATH").provider("P").mark("NAME")`.

Resolution (called by ProcessFamily for the `mark`/`provider` components, PATH found as
for the other process probes): NAME and P are stap's wildcards over the markers of the
binary's `.note.stapsdt` notes (uprobe_py.elf.sdt_notes); a `-` in NAME stands for the
`__` that dtrace-generated names hold. Each marker site is one ProbeSpec:
  - pp (what `pp()` and `-l` print): the point as written with the path made canonical
    and the wildcards replaced by the marker's names (provider only when it was written);
  - `-p2` lists it as stap does, as the statement probe it becomes:
    `process("/abs/app").statement(0x1223) /* pc=.dynamic+0x1223 */` (params `p2_pp`);
  - params for the ptrace engine, as function probes have them (`path`, `addr` = ELF vaddr,
    `offset` from the load base, `relocatable`, `kind` = "mark", `build_id`, `pc_comment`,
    `derived_from`), plus `semaphore` (ELF vaddr of the marker's 16-bit semaphore, 0 if
    none), `provider`, `name`, `args` (the parsed ArgSpecs) and `args_text`; and the DWARF
    scope at the marker (`cu`, `func_die`, `scope_die`) for `$var`s other than the marker's.

Context (`resolve_var`, called by target_vars.TargetResolver for mark probes): `$argN`
(1..the marker's count), `$$name`, `$$provider`, `$$parms`/`$$vars` (stap's
`arg1=0x.. arg2=0x..`); anything else is looked up in the DWARF at the marker's pc as a
statement probe would, with stap's extra "target-symbol requires debuginfo" on failure.
"""
from __future__ import annotations

import fnmatch
import os
from typing import Any, Callable, Optional

from .registry import ProbeResolveError, ProbeSpec

_markers_cache: dict[str, list] = {}


def markers(img: Any) -> list:
    got = _markers_cache.get(img.path if hasattr(img, "path") else id(img))
    if got is None:
        from ..elf.sdt_notes import read_markers
        got = read_markers(img.elf)
        _markers_cache[img.path if hasattr(img, "path") else id(img)] = got
    return got


def _name_matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(name, pattern.replace("-", "__"))


def split_components(components: list[Any]) -> tuple[Optional[Any], Any, list[Any]]:
    """(provider component or None, mark component, the rest) of a point after process(...)."""
    c1 = components[1]
    if c1.name == "provider":
        if c1.arg is None or not isinstance(c1.arg.value, str):
            raise ProbeResolveError("probe point mismatch (similar: provider, end, plt, insn, mark)", c1.tok)
        if len(components) < 3:
            raise ProbeResolveError("probe point truncated (follow:  mark(string))", c1.tok)
        prov, mark = c1, components[2]
        rest = components[3:]
        if mark.name != "mark":
            raise ProbeResolveError("probe point mismatch (similar: mark)", mark.tok)
    else:
        prov, mark, rest = None, c1, components[2:]
    if mark.arg is None or not isinstance(mark.arg.value, str):
        raise ProbeResolveError("probe point mismatch (similar: mark, end, library, plt, insn)", mark.tok)
    if rest:
        raise ProbeResolveError("invalid suffix for probe", rest[0].tok)
    return prov, mark, rest


def resolve(family: Any, components: list[Any]) -> list[ProbeSpec]:
    """All marker sites the point names, in each binary its PATH names (ProcessFamily._paths)."""
    from ..elf.image import is_elf, script_interpreter
    from .process import _module, find_executable
    prov, mark, _ = split_components(components)
    specs: list[ProbeSpec] = []
    seen_names: set[str] = set()
    for path in family._paths(components[0]):
        if os.path.isfile(path) and not is_elf(path):
            interp = script_interpreter(path)
            if interp:
                path = find_executable(interp)
        mod = _module(path) if os.path.isfile(path) else None
        if mod is None:
            continue
        img, index = mod
        for m in markers(img):
            if prov is not None and not fnmatch.fnmatchcase(m.provider, prov.arg.value):
                continue
            seen_names.add(m.name)
            if not _name_matches(mark.arg.value, m.name):
                continue
            specs.append(_spec(path, img, index, m, prov is not None))
    if not specs:
        msg = "no match"
        if seen_names:
            from ..elf.query import levenshtein_suggest
            sim = levenshtein_suggest(mark.arg.value, seen_names, 5)
            if sim:
                msg += f" (similar marks: {sim})"
        raise ProbeResolveError(msg)
    return specs


def _scope_at(index: Any, addr: int) -> tuple[Optional[int], Optional[int], Optional[int]]:
    """(cu, function DIE, innermost scope DIE) offsets at addr, for DWARF `$var`s at a marker."""
    if index is None:
        return None, None, None
    from ..elf.query_addr import scopes_at
    try:
        for cu_off in index.cus_for_addr(addr):
            scopes = scopes_at(index, cu_off, addr)
            fn = next((d for d in scopes if d.tag in ("DW_TAG_subprogram", "DW_TAG_inlined_subroutine")), None)
            if fn is not None:
                return cu_off, fn.offset, scopes[0].offset
    except Exception:                    # no usable DWARF here: the marker's own args still work
        pass
    return None, None, None


def _spec(path: str, img: Any, index: Any, m: Any, with_provider: bool) -> ProbeSpec:
    off = img.offset_of(m.pc)
    pp = f'process("{path}")' + (f'.provider("{m.provider}")' if with_provider else "") + f'.mark("{m.name}")'
    stmt = f'process("{path}").statement({m.pc:#x})'
    cu, func_die, scope_die = _scope_at(index, m.pc)
    return ProbeSpec("process", pp, {
        "path": path, "build_id": img.build_id, "relocatable": img.relocatable,
        "function": "", "addr": m.pc, "offset": off, "kind": "mark",
        "entrypc": m.pc, "cu": cu, "func_die": func_die, "scope_die": scope_die,
        "pc_comment": f"/* pc={img.section_label}+{off:#x} */", "derived_from": stmt, "p2_pp": stmt,
        "semaphore": m.semaphore, "provider": m.provider, "name": m.name,
        "args": list(m.args), "args_text": m.args_text})


def probe_vars(spec: ProbeSpec) -> list[str]:
    """-L: `$arg1:long ... $argN:long`."""
    return [f"$arg{i}:long" for i in range(1, len(spec.params.get("args") or []) + 1)]


# --- context: $argN, $$name, $$provider, $$parms ----------------------------------------------
def _symbol_lookup(path: str) -> Callable[[str], Optional[int]]:
    """The ELF vaddr of a data or code symbol (`.symtab`, else `.dynsym`) of the binary."""
    def look(name: str) -> Optional[int]:
        from .process import _module
        mod = _module(path)
        if not mod:
            return None
        for secname in (".symtab", ".dynsym"):
            sec = mod[0].elf.get_section_by_name(secname)
            if sec is None or not hasattr(sec, "get_symbol_by_name"):
                continue
            for sym in sec.get_symbol_by_name(name) or []:
                if sym["st_shndx"] != "SHN_UNDEF":
                    return sym["st_value"]
        return None
    return look


def resolve_var(e: Any, rp: Any, resolver: Any, store: bool = False) -> Any:
    """The Access of a target expression in a mark probe: the marker's own context
    variables, else what `resolver` (target_vars.TargetResolver) finds in the DWARF at the
    marker, as a statement probe there would; stap follows a failure there with
    "target-symbol requires debuginfo". Raises TVError."""
    from ..target_vars import TVError
    got = None if store else _mark_var(e, rp)
    if got is not None:
        return got
    p = rp.spec.params
    if p.get("scope_die") is None:
        err = TVError(f"debuginfo scope not found for module '{p['path']}', cannot resolve context variable "
                      "[man error::dwarf]", e.tok)
        err.extra = [("target-symbol requires debuginfo", e.tok)]     # type: ignore[attr-defined]
        raise err
    resolver.sdt_dwarf = True
    try:
        return resolver.resolve(e, rp, store)
    except TVError as err:
        if not err.msg.startswith("unresolved ") and not store:
            err.extra = [*getattr(err, "extra", []), ("target-symbol requires debuginfo", e.tok)]  # type: ignore
        raise
    finally:
        resolver.sdt_dwarf = False


def _mark_var(e: Any, rp: Any) -> Optional[Any]:
    """The Access for a mark probe's own context variable, None when it is not one."""
    from ..symbols import LONG, STRING
    from ..target_vars import Access, TVError
    p = rp.spec.params
    name = e.name
    if name in ("$$name", "$$provider"):
        val = p["name"] if name == "$$name" else p["provider"]
        return Access(STRING, lambda c, *a: val, 0)
    args = p.get("args") or []
    if name in ("$$parms", "$$vars"):
        if e.pretty:
            err = TVError(f"type definition '{p['name']}_arg1' not found in '{p['path']}'", e.tok)
            err.repeat, err.no_unresolved = 2, True           # type: ignore[attr-defined]
            raise err
        fns = [_arg_fn(a, p["path"], e.tok) for a in args]

        def parms(c: Any, *a: Any) -> str:
            return " ".join(f"arg{i}=%#x" % (f(c) & ((1 << 64) - 1)) for i, f in enumerate(fns, 1))
        return Access(STRING, parms, 0)
    if not name.startswith("$arg") or not name[4:].isdigit():
        return None
    n_ = int(name[4:])
    if n_ < 1 or n_ > len(args):
        return None
    if getattr(e, "addressof", False):
        err = TVError(f"debuginfo scope not found for module '{p['path']}', cannot resolve context variable "
                      "[man error::dwarf]", e.tok)
        err.extra = [("cannot take address of sdt variable", e.tok)]      # type: ignore[attr-defined]
        raise err
    if e.components or e.pretty:
        err = TVError(f"type definition '{p['name']}_arg{n_}' not found in '{p['path']}'", e.tok)
        err.repeat = 2                                       # type: ignore[attr-defined]
        raise err
    fn = _arg_fn(args[n_ - 1], p["path"], e.tok)
    return Access(LONG, lambda c, *a: fn(c), 0)


def _arg_fn(spec: Any, path: str, tok: Any) -> Callable:
    from ..elf.sdt_notes import ArgSpecError, compile_arg
    from ..target_vars import TVError
    try:
        return compile_arg(spec, _symbol_lookup(path))
    except ArgSpecError as err:
        raise TVError(str(err), tok) from None
