"""`process("PATH").function("PATTERN")` and `.statement("PATTERN")` probe points, resolved.

Resolution follows stap's dwarf_builder for user-space modules:
  - PATH: with a `/` taken as is, else searched in $PATH (stap's find_executable), then
    made canonical (symlinks resolved); a `#!` script means its interpreter;
    `process.function(...)` takes the program of `-c CMD`; `process(PID)` its executable;
  - `.function("PATTERN")` with optional `.call`, `.return`, `.inline`, and
    `.statement("PATTERN")`, PATTERN in stap's grammar (uprobe_py.elf.query);
  - each match becomes one ProbeSpec whose pp is stap's canonical point
    (`process("/abs/app").function("add@/abs/app.c:3")`) and whose params carry what
    the ptrace engine needs: `path`, `function`, `addr` (the ELF vaddr of the probe;
    the run-time address is the mapping's base plus `offset`), `offset`, `kind`
    (entry/return/statement), `relocatable`, `build_id`; plus `pc_comment` and
    `derived_from` for the `-p2` listing, and the DIE offsets `-L` reads variables from.
`make_engine` gives the ptrace engine (uprobe_py/ptrace/, v0: entry, statement and
`.return` probes in the `-c` command).
"""
from __future__ import annotations

import glob
import os
import shlex
from typing import Any, Callable, Optional

from ..lexer import Token
from .registry import ProbeResolveError, ProbeSpec, register

NOT_YET = "process probes are not available yet at run time (ptrace engine: issue 3)"
PROCESS_POINTS = ["begin", "end", "function", "insn", "library", "mark", "plt", "provider",
                  "statement", "syscall", "thread"]
FUNCTION_SUFFIXES = ("call", "exported", "inline", "return")     # stap's order in a derived pp
LATER = {"callee": "issue 3", "callees": "issue 3", "exported": "issue 3",
         "maxactive": "issue 3", "nearest": "issue 3",
         "plt": "issue 4"}

_target_command: Optional[str] = None
_target_pid = 0
_modules: dict[str, Any] = {}            # canonical path -> (ElfImage, DwarfIndex | None)
_warnings: list[str] = []                # stap's resolution warnings (labels), for the driver


def take_warnings() -> list[str]:
    """The warnings resolution gave since the last call (printed unless -w, as stap's)."""
    out = list(dict.fromkeys(_warnings))
    _warnings.clear()
    return out


def set_target_pid(pid: int) -> None:
    """`-x PID`: what `process.function(...)` probes when there is no -c command."""
    global _target_pid
    _target_pid = pid


def set_target_command(cmd: Optional[str]) -> None:
    """`-c CMD`: what `process.function(...)` probes (set by the driver before elaboration)."""
    global _target_command
    _target_command = cmd


def find_executable(name: str) -> str:
    """stap's find_executable: $PATH search when there is no slash, then the canonical path."""
    found = ""
    if "/" in name:
        found = name
    else:
        for d in (os.environ.get("PATH") or "").split(":"):
            cand = os.path.join(d, name) if d else name
            if os.access(cand, os.X_OK) and os.path.isfile(cand):
                found = cand
                break
    if not found:
        found = name
    return os.path.realpath(found)


def _module(path: str) -> Any:
    """The (image, index) pair of a binary, opened once per run; None when not an ELF file."""
    got = _modules.get(path)
    if got is None:
        from ..elf.dwarf_index import DwarfIndex
        from ..elf.image import ElfImage, NotElf
        try:
            img = ElfImage(path)
        except NotElf:
            _modules[path] = False
            return None
        index = DwarfIndex(img, use_cache=os.environ.get("UPROBE_PY_NO_CACHE") is None) if img.dwarf_elf else None
        got = _modules[path] = (img, index)
        if not _modules.get("__atexit__"):
            import atexit
            atexit.register(save_indexes)
            _modules["__atexit__"] = True
    return got or None


def save_indexes() -> None:
    for key, mod in list(_modules.items()):
        if key != "__atexit__" and mod and mod[1] is not None:
            mod[1].save()


def _quote(s: str) -> str:
    return '"' + s + '"'


def _component_text(c: Any) -> str:
    if c.arg is None:
        return c.name
    v = c.arg.value
    return f"{c.name}({_quote(v)})" if isinstance(v, str) else f"{c.name}({v})"


class ProcessFamily:
    names = ("process",)

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        first = components[0]
        if len(components) < 2:
            raise ProbeResolveError("probe point mismatch (similar: end, plt, insn, mark, begin)", first.tok)
        if components[1].name == "library":
            return self._resolve_library(components, tok)
        kind_c = components[1]
        if kind_c.name == "syscall":
            return self._resolve_syscall(components)
        if kind_c.name in ("begin", "end", "thread", "insn"):
            return self._resolve_event(components)
        if kind_c.name in ("mark", "provider"):        # SDT markers: probes/sdt.py
            from . import sdt
            return sdt.resolve(self, components)
        if kind_c.name not in ("function", "statement"):
            if kind_c.name in LATER:
                raise ProbeResolveError(f"process.{kind_c.name} probes are not available yet in uprobe-py "
                                        f"({LATER[kind_c.name]})", kind_c.tok)
            from ..elf.query import levenshtein_suggest
            sim = levenshtein_suggest(kind_c.name, set(PROCESS_POINTS), 5)
            raise ProbeResolveError("probe point mismatch" + (f" (similar: {sim})" if sim else ""), kind_c.tok)
        if kind_c.name == "statement" and len(components) == 3 and components[2].name == "absolute" \
                and components[2].arg is None and kind_c.arg is not None and isinstance(kind_c.arg.value, int):
            return self._resolve_absolute(first, kind_c.arg.value, components[2].tok)
        label, flags = self._label_and_flags(components, 2)
        if kind_c.arg is None:
            raise ProbeResolveError("probe point mismatch", kind_c.tok)
        if isinstance(kind_c.arg.value, int):
            return self._for_pid(first, [spec for path in self._paths(first)
                                         for spec in self._resolve_addr(path, components, kind_c.arg.value, flags)])
        paths = self._paths(first)
        specs: list[ProbeSpec] = []
        for path in paths:
            specs += self._resolve_in(path, components, kind_c.name == "statement", kind_c.arg.value, flags,
                                      label_pat=label)
        if not specs:
            raise ProbeResolveError(self._no_match)
        return self._for_pid(first, specs)

    @staticmethod
    def _for_pid(first: Any, specs: list[ProbeSpec]) -> list[ProbeSpec]:
        """process(PID) probes: armed in that process only (the engine attaches to it)."""
        if first.arg is not None and isinstance(first.arg.value, int):
            for spec in specs:
                spec.params["pid"] = first.arg.value
        return specs

    def _head(self, first: Any, params: dict[str, Any]) -> str:
        """`process`, `process(PID)` or `process("PATH")` for a pp, filling the pid/path filter."""
        if first.arg is None:
            return "process"
        if isinstance(first.arg.value, int):
            params["pid"] = first.arg.value
            self._exe_of(first.arg.value)
            return f"process({first.arg.value})"
        path = self._paths(first)[0]
        params["path"] = path
        return f'process("{path}")'

    # process[...].KIND points with no argument: KIND -> its allowed component names
    EVENT_POINTS = {"begin": ["begin"], "end": ["end"], "thread.begin": ["thread", "begin"],
                    "thread.end": ["thread", "end"],          # uprobe_py/ptrace/lifecycle.py
                    "insn": ["insn"], "insn.block": ["insn", "block"]}   # uprobe_py/ptrace/stepping.py

    def _resolve_event(self, components: list[Any]) -> list[ProbeSpec]:
        """process[...].begin/.end/.thread.begin/.thread.end, and .insn/.insn.block (every
        instruction by single-stepping, every block by block-stepping)."""
        first, rest = components[0], components[1:]
        names = [c.name for c in rest]
        if any(c.arg is not None for c in rest) or names not in self.EVENT_POINTS.values():
            bad = next((c for c in rest if c.arg is not None), rest[-1])
            raise ProbeResolveError("probe point mismatch", bad.tok)
        kind = ".".join(names)
        params: dict[str, Any] = {"kind": kind}
        pp = f"{self._head(first, params)}.{kind}"
        params["derived_from"] = pp
        return [ProbeSpec("process", pp, params)]

    def _resolve_syscall(self, components: list[Any]) -> list[ProbeSpec]:
        """process[("PATH")|(PID)].syscall[.return]: every system call of the traced processes
        (those running PATH, or PID), with $syscall, $arg1..$arg6 and $return."""
        first, kind_c = components[0], components[1]
        if kind_c.arg is not None:
            raise ProbeResolveError("probe point mismatch", kind_c.tok)
        rest = components[2:]
        if rest and (rest[0].name != "return" or rest[0].arg is not None or len(rest) > 1):
            raise ProbeResolveError("invalid suffix for probe", rest[0].tok)
        ret = bool(rest)
        params: dict[str, Any] = {"kind": "syscall.return" if ret else "syscall"}
        if first.arg is None:
            head = "process"
        elif isinstance(first.arg.value, int):
            head = f"process({first.arg.value})"
            params["pid"] = first.arg.value
            self._exe_of(first.arg.value)
        else:
            path = self._paths(first)[0]
            head = f'process("{path}")'
            params["path"] = path
        pp = head + ".syscall" + (".return" if ret else "")
        params["derived_from"] = pp
        return [ProbeSpec("process", pp, params)]

    def _resolve_absolute(self, first: Any, addr: int, tok: Token) -> list[ProbeSpec]:
        """process(PID).statement(ADDRESS).absolute: a run-time address of that process, in
        whichever file is mapped there (stap 4.8 itself rejects these for lack of inode-uprobes
        support; uprobe-py attaches to PID and probes the address in that module)."""
        if first.arg is None or not isinstance(first.arg.value, int):
            raise ProbeResolveError("invalid suffix for probe", tok)
        pid = first.arg.value
        addr &= (1 << 64) - 1
        mapped = None
        try:
            with open(f"/proc/{pid}/maps") as f:
                rows = [line.split(None, 5) for line in f]
        except OSError as e:
            raise ProbeResolveError(f"cannot probe pid {pid}: {os.strerror(e.errno or 3)}") from None
        for parts in rows:
            lo, hi = (int(x, 16) for x in parts[0].split("-", 1))
            if lo <= addr < hi and len(parts) == 6 and parts[5].strip().startswith("/") and "x" in parts[1]:
                mapped = parts[5].strip()
        if mapped is None:
            raise ProbeResolveError(f"address {addr:#x} is not in an executable file mapping of process {pid}")
        base = min(int(p[0].split("-", 1)[0], 16) for p in rows if len(p) == 6 and p[5].strip() == mapped)
        path = os.path.realpath(mapped)
        mod = _module(path)
        if mod is None:
            raise ProbeResolveError("no match")
        img = mod[0]
        off = addr - base if img.relocatable else addr - img.load_base
        vaddr = img.load_base + off
        return [ProbeSpec("process", f"process({pid}).statement({addr:#x}).absolute", {
            "path": path, "build_id": img.build_id, "relocatable": img.relocatable, "pid": pid,
            "function": "", "addr": vaddr, "offset": off, "kind": "statement", "entrypc": vaddr,
            "cu": None, "func_die": None, "scope_die": None,
            "pc_comment": f"/* pc={img.section_label}+{off:#x} */",
            "derived_from": f"process({pid}).statement({addr:#x}).absolute"})]

    def _resolve_library(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        """process("PATH").library("LIB").function/statement(...): the rest of the point
        resolved in each library LIB names (a path, or a glob over the libraries PATH loads
        at start, matched by file name or full path); pp names the library as a process."""
        import fnmatch

        from ..elf.needed import needed_libraries
        lib_c = components[1]
        if lib_c.arg is None or not isinstance(lib_c.arg.value, str) or len(components) < 3:
            raise ProbeResolveError("probe point mismatch", lib_c.tok)
        kind_c = components[2]
        if kind_c.name in ("mark", "provider"):
            raise ProbeResolveError(f"process.library.{kind_c.name} probes are not available yet in uprobe-py "
                                    "(issue 4)", kind_c.tok)
        if kind_c.name not in ("function", "statement"):
            if kind_c.name in LATER:
                raise ProbeResolveError(f"process.library.{kind_c.name} probes are not available yet in "
                                        f"uprobe-py ({LATER[kind_c.name]})", kind_c.tok)
            raise ProbeResolveError("probe point mismatch", kind_c.tok)
        if kind_c.arg is None or not isinstance(kind_c.arg.value, str):
            raise ProbeResolveError(f"{kind_c.name}(NUMBER) process probes are not available yet in uprobe-py",
                                    kind_c.tok)
        label, flags = self._label_and_flags(components, 3)
        pattern = lib_c.arg.value
        specs: list[ProbeSpec] = []
        for exe in self._paths(components[0]):
            if "/" in pattern:
                libs = sorted({os.path.realpath(p) for p in glob.glob(pattern)}) if any(
                    c in pattern for c in "*?[") else [os.path.realpath(pattern)]
            else:
                libs = [lib for lib in needed_libraries(exe)
                        if fnmatch.fnmatchcase(os.path.basename(lib), pattern) or fnmatch.fnmatchcase(lib, pattern)]
            for lib in libs:
                if not os.path.isfile(lib):
                    raise ProbeResolveError(f"cannot find library '{pattern}'")
                prefix = f'process("{exe}").library("{lib}")'
                got = self._resolve_in(lib, [components[0], *components[2:]], kind_c.name == "statement",
                                       kind_c.arg.value, flags, derived_prefix=prefix, label_pat=label)
                for spec in got:
                    spec.params["process"] = exe         # armed only in processes running exe
                specs += got
        if not specs:
            raise ProbeResolveError(getattr(self, "_no_match", "no match"))
        return specs

    def _resolve_addr(self, path: str, components: list[Any], addr: int, flags: set[str]) -> list[ProbeSpec]:
        """function(NUMBER) / statement(NUMBER) in one binary (uprobe_py/elf/query_addr.py)."""
        from ..elf.query_addr import AddressError, function_at, statement_at
        mod = _module(path) if os.path.isfile(path) else None
        if mod is None:
            raise ProbeResolveError("no match")
        img, index = mod
        kind_name = components[1].name
        addr &= (1 << 64) - 1
        try:
            site = statement_at(img, index, addr) if kind_name == "statement" else \
                function_at(img, index, addr, call="call" in flags, ret="return" in flags)
        except AddressError as e:
            raise ProbeResolveError("no match", before=[str(e)]) from None
        if site is None:
            raise ProbeResolveError("no match")
        suffix = "".join("." + f for f in FUNCTION_SUFFIXES if f in flags)
        kind = "statement" if kind_name == "statement" else ("return" if "return" in flags else "entry")
        off = img.offset_of(site.addr)
        derived = ".".join([f'process("{path}")', f"{kind_name}({site.addr:#x})"]
                           + [_component_text(c) for c in components[2:]])
        return [ProbeSpec("process", f'process("{path}").{kind_name}({addr:#x}){suffix}', {
            "path": path, "build_id": img.build_id, "relocatable": img.relocatable,
            "function": site.pp_func.split("@", 1)[0], "addr": site.addr, "offset": off, "kind": kind,
            "entrypc": site.entrypc, "cu": site.cu, "func_die": site.func_die, "scope_die": site.scope_die,
            "pc_comment": f"/* pc={img.section_label}+{off:#x} */", "derived_from": derived})]

    # --- pieces ------------------------------------------------------------------
    def _label_and_flags(self, components: list[Any], at: int) -> tuple[Optional[str], set[str]]:
        """After the function/statement component (components[at - 1]): a `.label("L")`
        (uprobe_py/elf/query_label.py; no suffix may follow it) or the usual suffixes."""
        kind_c = components[at - 1]
        label = None
        if kind_c.name == "function" and len(components) > at and components[at].name == "label" \
                and components[at].arg is not None and isinstance(components[at].arg.value, str):
            label = components[at].arg.value
        flags = self._suffixes(components[at + 1 if label is not None else at:], kind_c.name == "statement")
        if label is not None and flags:
            raise ProbeResolveError("invalid suffix for probe", components[at + 1].tok)
        return label, flags

    @staticmethod
    def _suffixes(rest: list[Any], statement: bool) -> set[str]:
        flags: set[str] = set()
        for c in rest:
            if c.name in LATER:
                raise ProbeResolveError(f".{c.name} process probes are not available yet in uprobe-py "
                                        f"({LATER[c.name]})", c.tok)
            if statement or c.name not in FUNCTION_SUFFIXES or c.arg is not None or flags:
                raise ProbeResolveError("invalid suffix for probe", c.tok)
            flags.add(c.name)
        return flags

    def _paths(self, first: Any) -> list[str]:
        arg = first.arg
        if arg is None:
            if not _target_command and _target_pid:
                return [self._exe_of(_target_pid)]
            if not _target_command:
                raise ProbeResolveError("unspecified process probe is invalid without a -c COMMAND or -x PID "
                                        "[man stapprobes]")
            try:
                words = shlex.split(_target_command)
            except ValueError:
                words = _target_command.split()
            return [find_executable(words[0])] if words else []
        if isinstance(arg.value, int):
            return [self._exe_of(arg.value)]
        name = arg.value
        if any(c in name for c in "*?["):
            return sorted({os.path.realpath(p) for p in glob.glob(name) if os.access(p, os.X_OK)})
        return [find_executable(name)]

    @staticmethod
    def _exe_of(pid: int) -> str:
        try:
            return os.path.realpath(os.readlink(f"/proc/{pid}/exe"))
        except OSError as e:
            raise ProbeResolveError(f"cannot probe pid {pid}: {os.strerror(e.errno or 3)}") from None

    def _resolve_in(self, path: str, components: list[Any], statement: bool, pattern: str,
                    flags: set[str], derived_prefix: str = "", label_pat: Optional[str] = None) -> list[ProbeSpec]:
        from ..elf.image import is_elf, script_interpreter
        from ..elf.query import Query, QueryError, parse_spec
        self._no_match = "no match"
        if os.path.isfile(path) and not is_elf(path):
            interp = script_interpreter(path)
            if interp:
                path = find_executable(interp)
        mod = _module(path) if os.path.isfile(path) else None
        if mod is None:
            return []
        img, index = mod
        try:
            spec = parse_spec(pattern)
        except QueryError as e:
            raise ProbeResolveError(str(e)) from None
        if label_pat is not None:
            from ..elf.query_label import LabelQuery
            q = LabelQuery(img, index, spec, label_pat)
        else:
            q = Query(img, index, spec, statement, call="call" in flags, inline="inline" in flags,
                      ret="return" in flags)
        # a query answered before on this binary comes from the index cache (a resolution of
        # function("*") on a big library is most of a cached run's time otherwise)
        from ..elf.query import Site
        qkey = (pattern, statement, tuple(sorted(flags)))
        cached = index.queries.get(qkey) if index is not None and label_pat is None else None
        if cached is not None:
            sites = [Site(*t) for t in cached]
        else:
            try:
                sites = q.run()
            except QueryError as e:
                raise ProbeResolveError(str(e)) from None
            if index is not None and sites and label_pat is None and not getattr(q, "warnings", None):
                index.queries[qkey] = [(s.pp_func, s.canon, s.addr, s.cu, s.func_die, s.scope_die, s.entrypc)
                                       for s in sites]
                index.dirty = True
        _warnings.extend(getattr(q, "warnings", []) if cached is None else [])
        if not sites:
            sugs = q.suggestions()
            self._no_match = "no match" + (f" (similar functions: {sugs})" if sugs else "")
            return []
        kind_name = components[1].name
        suffix = "".join("." + f for f in FUNCTION_SUFFIXES if f in flags)
        kind = "statement" if statement else ("return" if "return" in flags else "entry")
        head = f'process("{path}").{kind_name}("'
        dhead = f'{derived_prefix}.{kind_name}("' if derived_prefix else head   # .library(...): both named
        extra = "".join("." + _component_text(c) for c in components[2:])
        label, base = img.section_label, img.load_base        # offset_of: vaddr - load_base
        build_id, relocatable = img.build_id, img.relocatable
        out = []
        for s in sites:
            off = s.addr - base
            out.append(ProbeSpec("process", f'{head}{s.pp_func}"){suffix}', {
                "path": path, "build_id": build_id, "relocatable": relocatable,
                "function": s.pp_func.partition("@")[0], "addr": s.addr, "offset": off, "kind": kind,
                "entrypc": s.entrypc, "cu": s.cu, "func_die": s.func_die, "scope_die": s.scope_die,
                "pc_comment": f"/* pc={label}+{off:#x} */", "derived_from": f'{dhead}{s.canon}"){extra}'}))
            if getattr(s, "label", None) is not None:     # a label: a statement probe, listed with it
                out[-1].params.update(kind="statement", derived_from=f'{dhead}{s.canon}").label("{s.label}")',
                                      list_pp=f'{head}{s.pp_func}").label("{s.label}")')
            elif label_pat is not None:                    # a symbol-only function (stap's quirk)
                out[-1].params["list_pp"] = out[-1].params["derived_from"]
        return out

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Any:
        """The session's ptrace engine (uprobe_py/ptrace/engine.py), shared with the syscall
        aliases; it traces the -c command from its fork and attaches to -x / process(PID)."""
        if not probes:
            return None
        from ..ptrace.engine import shared_engine
        return shared_engine(session, probes, fire)


class ProcessEngine:
    """Placeholder for what the ptrace engine cannot run yet: starting it is a run-time error."""

    def __init__(self, session: Any, msg: str = NOT_YET) -> None:
        self.session = session
        self.msg = msg

    def start(self, now: float) -> None:
        """A run-time error: reported through the session (stap's ERROR:, then the run
        fails and `error` probes run) when it can, else raised."""
        from ..runtime.errors import StapRuntimeError
        err = StapRuntimeError(self.msg)
        err.has_location = False            # type: ignore[attr-defined]
        report = getattr(self.session, "report_error", None)
        if report is None:
            raise err
        report(err)
        self.session.request_exit()

    def next_timeout(self, now: float) -> Optional[float]:
        return None

    def filenos(self) -> list[int]:
        return []

    def poll(self, now: float) -> None:
        pass

    def stop(self) -> None:
        pass


def probe_vars(spec: ProbeSpec) -> list[str]:
    """The `$name:type` list stap's -L prints for a resolved process probe."""
    p = spec.params
    if p.get("kind") == "mark":
        from .sdt import probe_vars as mark_vars
        return mark_vars(spec)
    mod = _module(p["path"])
    if not mod or mod[1] is None or p.get("scope_die") is None:
        return []
    index = mod[1]
    key = (p["scope_die"], p["addr"], 1 if p["kind"] == "return" else 0)
    got = index.vars.get(key)
    if got is None:
        from ..elf.dwarf_vars import scope_vars
        got = scope_vars(index.die(p["scope_die"]), p["addr"], index.dwarfinfo,
                         index.die(p["func_die"]), p["kind"] == "return")
        index.vars[key] = got
        index.dirty = True
    return got


register(ProcessFamily())
