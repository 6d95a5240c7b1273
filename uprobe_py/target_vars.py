"""Pass 2 for target variables: `$var`, `$var->a[i]`, `$$vars`, `$return`, `@var`, `@cast`.

`TargetResolver.resolve(e, rp)` resolves one TargetVar node against one process
probe's DWARF (the binary, the probe's scope DIE and pc from its ProbeSpec params)
and returns an `Access`: the value's script type ("long" or "string"), how many
run-time arguments it takes (the `[i]` indexes and @cast's pointer, in order) and
`fn(ctx, *args)`, built once here: the location expression compiled
(uprobe_py.elf.dwarf_locations), the member/index walk folded into offsets where
they are constant, and the final read or pretty-printer (uprobe_py.runtime.
target_pretty). Failures raise TVError with stap's message and the token it names.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import nodes as n
from .elf import dies as D
from .elf import dwarf_types as T
from .elf.dwarf_locations import M64, Env, Fault, LocError, compile_expr, location_expr, cfa_evaluator
from .runtime import target_pretty as P
from .symbols import LONG, STRING


class TVError(Exception):
    def __init__(self, msg: str, tok: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.tok = tok


def struct_not_member(e: Any, cur: Any, ctoks: list) -> TVError:
    """The error for a chain that ends at a whole struct (read or written) instead of a member."""
    first = T.member_names(cur)
    such = f" such as '->{first[0]}'" if first else ""
    r = T.resolve(cur)
    return TVError(f"'{T.type_desc(r)}'{T.decl_loc(r)} is being accessed instead of a member{such}",
                   ctoks[-1] if ctoks else e.tok)


class Access:
    __slots__ = ("type", "fn", "nargs", "param_names")

    def __init__(self, type_: str, fn: Callable, nargs: int) -> None:
        self.type, self.fn, self.nargs = type_, fn, nargs


def _bias(c: Any) -> int:
    m = c.extra.get("module")
    return m[1] if m else 0


def _tls_size(img: Any) -> Optional[int]:
    for seg in img.elf.iter_segments():
        if seg["p_type"] == "PT_TLS":
            al = max(seg["p_align"], 1)
            return (seg["p_memsz"] + al - 1) // al * al
    return None


class ProbeScope:
    """The DWARF context of one process probe: binary, index, scope DIE, pc."""

    def __init__(self, rp: Any) -> None:
        from .probes.process import _module
        p = rp.spec.params
        self.params = p
        mod = _module(p["path"])
        self.img, self.index = (mod if mod else (None, None))
        self.pc = p["addr"]
        self.is_return = p.get("kind") == "return"
        self.scope_die = self.index.die(p["scope_die"]) if self.index is not None and p.get("scope_die") is not None \
            else None
        self.func_die = self.index.die(p["func_die"]) if self.scope_die is not None and p.get("func_die") is not None \
            else None
        self._env: Optional[Env] = None

    def env(self, func_die: Any = None) -> Env:
        if self._env is None:
            dwi = self.index.dwarfinfo
            structs = self.scope_die.cu.structs if self.scope_die is not None else dwi.structs
            cfa = cfa_evaluator(self.img, self.pc)
            fb = None
            fd = func_die or self.func_die
            if fd is not None:
                fbexpr = location_expr_attr(fd, "DW_AT_frame_base", self.pc, dwi)
                if fbexpr is not None:
                    try:
                        fb_loc = compile_expr(fbexpr, Env(structs, _bias, None, cfa))

                        def fb(c: Any, _f: Any = fb_loc) -> int:
                            loc = _f(c)
                            if loc[0] == "mem":
                                return loc[1]
                            return int.from_bytes(loc[1][:8], "little")
                    except LocError:
                        fb = None
            self._env = Env(structs, _bias, fb, cfa, _tls_size(self.img))
        return self._env


def location_expr_attr(die: Any, attr: str, pc: int, dwarfinfo: Any) -> Optional[bytes]:
    a = die.attributes.get(attr)
    if a is None:
        return None
    if a.form in D.EXPR_FORMS:
        return bytes(a.value)
    return None


def visible_vars(scope: ProbeScope, include_cu: bool = False) -> list[Any]:
    """Variables and parameters in scope at the probe, innermost scope first."""
    from .elf.dwarf_vars import getscopes
    out = []
    for s in getscopes(scope.scope_die):
        if s.tag == "DW_TAG_compile_unit" and not include_cu:
            break
        for ch in s.iter_children():
            if ch.tag in ("DW_TAG_variable", "DW_TAG_formal_parameter") and D.die_name(ch):
                out.append(ch)
        if s.tag == "DW_TAG_compile_unit":
            break
    return out


class TargetResolver:
    def __init__(self, guru: bool = False) -> None:
        self.guru = guru
        self.scopes: dict[int, ProbeScope] = {}

    def scope(self, rp: Any) -> Optional[ProbeScope]:
        s = self.scopes.get(rp.index)
        if s is None:
            s = self.scopes[rp.index] = ProbeScope(rp)
        return s

    # --- entry ---------------------------------------------------------------
    def resolve(self, e: n.TargetVar, rp: Any, store: bool = False) -> Access:
        """The read Access of `e` in probe rp; with store, the write one (uprobe_py.target_writes)."""
        if rp.spec.params.get("kind") in ("syscall", "syscall.return"):     # process.syscall: syscall_vars.py
            from .syscall_vars import syscall_access
            return syscall_access(e, rp)
        if rp.spec.family != "process":
            from .probes.registry import find_family
            hook = getattr(find_family(rp.spec.family), "target_access", None)
            if hook is not None:            # a family's own context variables (kernel.trace, ...)
                return hook(e, rp, self, store)
            raise TVError(self._unresolved(e), e.tok)
        if rp.spec.params.get("kind") == "mark" and not getattr(self, "sdt_dwarf", False):  # SDT: probes/sdt.py
            from .probes.sdt import resolve_var
            return resolve_var(e, rp, self, store)
        sc = self.scope(rp)
        if sc is None or sc.scope_die is None:
            raise TVError(self._unresolved(e), e.tok)
        if store:
            from .target_writes import check_store
            check_store(e, sc)
        if e.name in ("$$vars", "$$parms", "$$locals"):
            return self._vars_list(e, sc)
        nargs = 0
        if e.name == "@cast":
            base_type, base = self._cast_base(e, sc)
            nargs = 1
        elif e.name == "@var":
            base_type, base = self._var_base(e, sc)
        elif e.name in ("$return", "$$return"):
            base_type, base = self._return_base(e, sc)
            if e.name == "$$return":
                return self._pretty_return(e, sc, base_type, base)
        elif e.name.startswith("$"):
            base_type, base = self._local_base(e, sc, e.name[1:])
        else:
            raise TVError(self._unresolved(e), e.tok)
        return self._chain(e, base_type, base, nargs, store)

    @staticmethod
    def _unresolved(e: n.TargetVar) -> str:
        if e.name == "@var":
            return "unresolved @var() expression"
        if e.name == "@cast":
            return "unresolved @cast() expression"
        return "unresolved target-symbol expression"

    # --- bases: (type DIE, loc function f(c, args) -> Loc) ----------------------
    def _local_base(self, e: n.TargetVar, sc: ProbeScope, name: str) -> tuple[Any, Callable]:
        found = None
        for v in visible_vars(sc, include_cu=True):
            if D.die_name(v) == name:
                found = v
                break
        if found is None:
            raise TVError(self._no_local(sc, name), e.tok)
        return T.subtype(found), self._var_loc(found, sc, e, name)

    def _no_local(self, sc: ProbeScope, name: str) -> str:
        from .elf.query import levenshtein_suggest
        names = {"$" + D.die_name(v) for v in visible_vars(sc)
                 if D.location_at(v, sc.pc, sc.index.dwarfinfo)}
        alts = levenshtein_suggest("$" + name, names, 5) if names else ""
        fname = D.die_name(sc.func_die) or "" if sc.func_die is not None else ""
        cu_name = D.die_name(sc.scope_die.cu.get_top_DIE()) or ""
        return (f"unable to find local '{name}', [man error::dwarf] dieoffset {sc.scope_die.offset:#x} in "
                f"{sc.params['path']}, near pc {sc.img.offset_of(sc.pc):#x} in {fname} {cu_name} "
                f"(alternatives: {alts}))")

    def _var_loc(self, die: Any, sc: ProbeScope, e: n.TargetVar, name: str) -> Callable:
        from .target_writes import classify
        cv = D.attr_integrate(die, "DW_AT_const_value")
        if cv is not None:
            val = cv.value
            b = bytes(val) if isinstance(val, (list, bytes)) else int(val & M64).to_bytes(8, "little")
            const = lambda c, a=None: ("bytes", b)      # noqa: E731
            const.lvalue = ("value",)                  # type: ignore[attr-defined]
            return const
        expr = location_expr(die, sc.pc, sc.index.dwarfinfo)
        if not expr:
            raise TVError(f"unable to find location for variable '{name}' [man error::dwarf]", e.tok)
        try:
            f = compile_expr(expr, sc.env())
        except LocError as err:
            if str(err) == "entry_value":
                raise TVError(f"cannot evaluate DW_OP_entry_value for '{name}' at this pc [man error::dwarf]",
                              e.tok) from None
            raise TVError(f"unsupported location for variable '{name}': {err} [man error::dwarf]", e.tok) from None
        got = lambda c, a=None: f(c)                    # noqa: E731
        got.lvalue = classify(die, sc.pc, sc.index.dwarfinfo, sc.env().structs)   # type: ignore[attr-defined]
        return got

    def _return_base(self, e: n.TargetVar, sc: ProbeScope) -> tuple[Any, Callable]:
        if not sc.is_return or sc.func_die is None:
            raise TVError(self._no_local(sc, e.name[1:] if e.name == "$return" else e.name), e.tok)
        t = T.subtype(sc.func_die)
        if t is None:
            raise TVError(self._no_local(sc, "return"), e.tok)
        import struct as st
        ret = lambda c, a=None: ("bytes", st.pack("<QQ", c.regs.rax & M64, c.regs.rdx & M64))  # noqa: E731
        ret.lvalue = ("reg", "rax")                     # type: ignore[attr-defined]
        return t, ret

    def _var_base(self, e: n.TargetVar, sc: ProbeScope) -> tuple[Any, Callable]:
        arg = e.args[0] if e.args else None
        if not isinstance(arg, n.Literal) or not isinstance(arg.value, str):
            raise TVError("expected literal string as first parameter of @var", e.tok)
        name, _, file = arg.value.partition("@")
        cands = []
        top_cus = [sc.scope_die.cu] if not file else []
        if file:
            for cu in sc.index.dwarfinfo.iter_CUs():
                cname = D.die_name(cu.get_top_DIE()) or ""
                if cname == file or cname.endswith("/" + file):
                    top_cus.append(cu)
        else:
            for v in visible_vars(sc):
                if D.die_name(v) == name:
                    return T.subtype(v), self._var_loc(v, sc, e, name)
        for cu in top_cus:
            for ch in cu.get_top_DIE().iter_children():
                if ch.tag == "DW_TAG_variable" and D.die_name(ch) == name:
                    cands.append(ch)
        defs = [c for c in cands if "DW_AT_location" in c.attributes or "DW_AT_const_value" in c.attributes]
        if not defs:
            raise TVError(f"unable to find global '{name}' in {sc.params['path']}", e.tok)
        return T.subtype(defs[0]), self._var_loc(defs[0], sc, e, name)

    def _cast_base(self, e: n.TargetVar, sc: ProbeScope) -> tuple[Any, Callable]:
        tname = e.args[1].value if len(e.args) > 1 and isinstance(e.args[1], n.Literal) else ""
        index = sc.index
        if len(e.args) > 2 and isinstance(e.args[2], n.Literal) and isinstance(e.args[2].value, str):
            from .probes.process import _module, find_executable
            mpath = e.args[2].value.split(":")[0]
            mod = _module(find_executable(mpath))
            if not mod or mod[1] is None:
                raise TVError(f"type definition '{tname}' not found in '{mpath}'", e.tok)
            index = mod[1]
            where = mpath
        else:
            where = sc.params["path"]
        t = find_type(index, str(tname))
        if t is None:
            raise TVError(f"type definition '{tname}' not found in '{where}'", e.tok)
        return t, lambda c, a: ("mem", a[0] & M64)

    # --- the chain ------------------------------------------------------------------
    def _chain(self, e: n.TargetVar, tdie: Any, base: Callable, nargs: int, store: bool = False) -> Access:
        steps: list[tuple] = []        # ("off", n) | ("deref",) | ("index", argpos, elemsize)
        ctoks = getattr(e, "comp_toks", None) or [e.tok] * len(e.components)
        cur = tdie
        arr_dims: Optional[list] = None
        for i, (kind, val) in enumerate(e.components):
            tok = ctoks[i] if i < len(ctoks) else e.tok
            k = T.kind(cur)
            if kind == "->":
                r = T.resolve(cur)
                if k == "pointer":
                    steps.append(("deref",))
                    cur = T.subtype(r)
                    k = T.kind(cur)
                if k != "struct":
                    raise TVError(f"invalid access '->{val}' vs. {T.type_desc(cur)}", tok)
                m = T.find_member(cur, val)
                if m is None:
                    from .elf.query import levenshtein_suggest
                    alts = levenshtein_suggest(val, set(T.member_names(cur)), 2**31)
                    raise TVError(f"unable to find member '{val}' for {T.type_desc(cur)} (alternatives: {alts})",
                                  tok)
                steps.append(("off", m.offset))
                if m.bit_size is not None:
                    steps.append(("bits", m.bit_size, m.bit_offset))
                cur = m.type
            else:
                idx_text = f"[{val.value}]" if isinstance(val, n.Literal) else "[...]"
                if k == "pointer":
                    steps.append(("deref",))
                    elem = T.subtype(T.resolve(cur))
                    size = T.size_of(elem)
                elif k == "array":
                    r = T.resolve(cur)
                    dims = arr_dims or T.array_dims(r)
                    level = T.ArrayLevel(r, dims)
                    size = level.elem_size()
                    if len(dims) > 1:
                        arr_dims = dims[1:]
                        elem = cur
                    else:
                        arr_dims = None
                        elem = T.subtype(r)
                else:
                    raise TVError(f"invalid access '{idx_text}' vs. {T.type_desc(cur)}", tok)
                if isinstance(val, n.Literal) and isinstance(val.value, int):
                    steps.append(("off", val.value * size))
                else:
                    steps.append(("index", nargs, size))
                    nargs += 1
                cur = elem
                if arr_dims is not None:
                    continue
        loc_fn = _compose(base, steps)
        bits = next(((s[1], s[2]) for s in steps if s[0] == "bits"), None)
        if store:
            from .target_writes import store_access
            return store_access(e, cur, base, steps, loc_fn, bits, nargs, ctoks)
        if e.addressof:
            if bits is not None:
                raise TVError("cannot take address of bit-field", e.tok)

            def addr_of(c: Any, *a: Any) -> int:
                loc = loc_fn(c, a)
                if loc[0] != "mem":
                    raise TVError("cannot take the address of a register", e.tok)
                return P._signed(loc[1], 64)
            return Access(LONG, addr_of, nargs)
        if e.pretty:
            pp = P.pretty_printer(cur, e.pretty)
            return Access(STRING, lambda c, *a: pp(c, loc_fn(c, a)), nargs)
        k = T.kind(cur)
        if k == "struct":
            raise struct_not_member(e, cur, ctoks)
        if k == "array":
            def arr_addr(c: Any, *a: Any) -> int:
                loc = loc_fn(c, a)
                return P._signed(loc[1], 64) if loc[0] == "mem" else 0
            return Access(LONG, arr_addr, nargs)
        if k == "void":
            raise TVError("invalid access of void target", e.tok)
        rd = P.scalar_reader(cur, 0, bits[0] if bits else None, bits[1] if bits else 0)
        return Access(LONG, lambda c, *a: rd(c, loc_fn(c, a)), nargs)

    # --- $$vars / $$parms / $$locals, $$return ---------------------------------------
    def _vars_list(self, e: n.TargetVar, sc: ProbeScope) -> Access:
        dwi = sc.index.dwarfinfo
        want = {"$$vars": ("DW_TAG_formal_parameter", "DW_TAG_variable"), "$$parms": ("DW_TAG_formal_parameter",),
                "$$locals": ("DW_TAG_variable",)}[e.name]
        parts: list[tuple[str, Optional[Callable]]] = []
        for v in visible_vars(sc):
            if v.tag not in want or not D.location_at(v, sc.pc, dwi):
                continue
            name = D.die_name(v)
            tdie = T.subtype(v)
            try:
                loc = self._var_loc(v, sc, e, name)
            except TVError:
                parts.append((name, None))
                continue
            if e.pretty:
                pp = P.pretty_printer(tdie, e.pretty)
                parts.append((name, (lambda c, _l=loc, _p=pp: _p(c, _l(c)))))
            else:
                k = T.kind(tdie)
                if k in ("struct", "array"):
                    shown = "{...}" if k == "struct" else "[...]"
                    parts.append((name, (lambda c, _s=shown: _s)))
                else:
                    rd = P.scalar_reader(tdie)
                    parts.append((name, (lambda c, _l=loc, _r=rd: "%#x" % (_r(c, _l(c)) & M64))))
        return Access(STRING, _joiner(parts, bool(e.pretty)), 0)

    def _pretty_return(self, e: n.TargetVar, sc: ProbeScope, tdie: Any, base: Callable) -> Access:
        if e.pretty:
            pp = P.pretty_printer(tdie, e.pretty)
            return Access(STRING, lambda c: "return=" + pp(c, base(c)), 0)
        rd = P.scalar_reader(tdie)
        return Access(STRING, lambda c: "return=%#x" % (rd(c, base(c)) & M64), 0)


def _joiner(parts: list[tuple[str, Optional[Callable]]], pretty: bool) -> Callable:
    def run(c: Any) -> str:
        out = []
        for name, f in parts:
            if f is None:
                out.append(f"{name}=?")
                continue
            try:
                out.append(f"{name}={f(c)}")
            except Fault:
                out.append(f"{name}=?")
        return " ".join(out)
    return run


def _compose(base: Callable, steps: list[tuple]) -> Callable:
    """One function (c, args) -> Loc applying the member/index steps after the base."""
    folded: list[tuple] = []
    for s in steps:
        if s[0] == "bits":
            continue
        if s[0] == "off" and folded and folded[-1][0] == "off":
            folded[-1] = ("off", folded[-1][1] + s[1])
        else:
            folded.append(s)
    if not folded:
        return base
    if len(folded) == 1 and folded[0][0] == "off":
        off = folded[0][1]

        def one(c: Any, a: Any) -> tuple:
            loc = base(c, a)
            if loc[0] == "mem":
                return ("mem", (loc[1] + off) & M64)
            return ("bytes", loc[1][off:])
        return one

    def run(c: Any, a: Any) -> tuple:
        loc = base(c, a)
        for s in folded:
            k = s[0]
            if k == "off":
                loc = ("mem", (loc[1] + s[1]) & M64) if loc[0] == "mem" else ("bytes", loc[1][s[1]:])
            elif k == "deref":
                loc = ("mem", int.from_bytes(P.load_bytes(c, loc, 0, 8), "little"))
            else:
                d = a[s[1]] * s[2]
                loc = ("mem", (loc[1] + d) & M64) if loc[0] == "mem" else ("bytes", loc[1][d:])
        return loc
    return run


def find_type(index: Any, name: str) -> Optional[Any]:
    """A named type in a binary's DWARF: `struct foo`, `union u`, `enum e`, a typedef or base type."""
    name = name.strip()
    tags: tuple[str, ...]
    for prefix, tg in (("struct ", ("DW_TAG_structure_type", "DW_TAG_class_type")),
                       ("union ", ("DW_TAG_union_type",)), ("enum ", ("DW_TAG_enumeration_type",)),
                       ("class ", ("DW_TAG_class_type", "DW_TAG_structure_type"))):
        if name.startswith(prefix):
            name, tags = name[len(prefix):].strip(), tg
            break
    else:
        tags = ("DW_TAG_typedef", "DW_TAG_base_type", "DW_TAG_structure_type", "DW_TAG_class_type",
                "DW_TAG_union_type", "DW_TAG_enumeration_type")
    cache = index.__dict__.setdefault("_tv_types", {})
    key = (name, tags)
    if key in cache:
        return cache[key]
    found = None
    for off in index.cu_offsets():
        cu = index.cu_object(off)
        for ch in cu.get_top_DIE().iter_children():
            if ch.tag in tags and "DW_AT_declaration" not in ch.attributes and D.die_name(ch) == name:
                found = ch
                break
        if found is not None:
            break
    cache[key] = found
    return found


def error_text_read_fault(addr: int) -> str:
    return "read fault [man error::fault] at 0x%x" % (addr & M64)
