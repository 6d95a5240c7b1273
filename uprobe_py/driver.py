"""The pass order, written down once: parse → elaborate → check → generate → load → run.

Each pass is a plain function call on the previous pass's output; `-p N` stops
after pass N and prints that pass's listing, as stap does:
  -p1  the parsed script            -p2  resolved probes, globals, functions
  -p3  the generated Python         -p4  compile only        -p5  run (default)
Diagnostics are raised as `CompileFailed` for the CLI to print.
"""
from __future__ import annotations

import inspect
import os
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any, Optional

from . import nodes as n
from .builtins.registry import Builtin
from .codegen import Generated, generate
from .diagnostics import CompileFailed, Diagnostic
from .elaborate import Resolved, elaborate
from .elision import elide
from .frontend import load_library_macros, parse_script_source
from .options import Options
from .preprocess import Environment
from .probes.process import set_target_command, set_target_pid, take_warnings
from .semantic import Program, check, type_name
from .source import Source
from .tapsets import PACKAGE_TAPSET_DIR, TapsetLibrary


@dataclass
class Compiled:
    script: n.Script
    probes: list[Resolved]
    program: Program
    generated: Optional[Generated] = None
    warnings: list[Diagnostic] | None = None
    timer: Optional[Timer] = None


def _memory() -> str:
    """stap's `NNNvirt/NNNres/NNNshr/NNNdata kb` from /proc/self/statm."""
    try:
        with open("/proc/self/statm") as f:
            size, res, shr, _text, _lib, data = (int(x) for x in f.read().split()[:6])
    except (OSError, ValueError):
        return "0virt/0res/0shr/0data kb"
    kb = resource.getpagesize() // 1024
    return f"{size * kb}virt/{res * kb}res/{shr * kb}shr/{data * kb}data kb"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else ("es" if word.endswith("h") else "s"))


class Timer:
    """-v: stap's pass lines with memory use and user/system/real milliseconds."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.start()

    def start(self) -> None:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        self.t0, self.u0, self.s0 = time.monotonic(), ru.ru_utime, ru.ru_stime

    def done(self, text: str) -> None:
        if self.opts.verbose:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            usr = int((ru.ru_utime - self.u0) * 1000)
            sys_ = int((ru.ru_stime - self.s0) * 1000)
            real = int((time.monotonic() - self.t0) * 1000)
            using = "" if text.startswith("Pass 5") else f" using {_memory()},"
            sys.stderr.write(f"{text}{using} in {usr}usr/{sys_}sys/{real}real ms.\n")
        self.start()


def tapset_dirs(opts: Options) -> list[str]:
    return [PACKAGE_TAPSET_DIR] + list(opts.include_dirs)


def environment(opts: Options) -> Environment:
    env = Environment(guru=opts.guru)
    env.systemtap_v = opts.compatible
    if opts.unprivileged:
        env.privilege = "stapusr"
    return env


def parse_pass(opts: Options) -> tuple[n.Script, Environment, Any, TapsetLibrary]:
    env = environment(opts)
    dirs = tapset_dirs(opts)
    tapset_root = tapset_root_of(opts.script_name, dirs)
    tapset_file = tapset_root is not None
    macro_dirs = dirs + ([tapset_root] if tapset_root and tapset_root not in dirs else [])
    macros = load_library_macros(macro_dirs, env)
    assert opts.script_text is not None
    source = Source(opts.script_name, opts.script_text)
    script, diags = parse_script_source(source, env, opts.args, macros,
                                        privileged=tapset_file or opts.guru)
    if diags:
        raise CompileFailed(1, diags)
    return script, env, macros, TapsetLibrary(dirs, env, macros)


SYSTEM_TAPSET_DIRS = ["/usr/share/systemtap/tapset", "/usr/local/share/systemtap/tapset"]


def tapset_root_of(path: str, dirs: list[str]) -> str | None:
    """The tapset directory holding `path`, if it is a tapset file.

    A tapset file is privileged (its embedded C parses) and sees its directory's
    library macros, as stap treats its library files.
    """
    if path in ("<input>", "-"):
        return None
    real = os.path.realpath(path)
    for d in dirs + SYSTEM_TAPSET_DIRS:
        d = os.path.realpath(d)
        if real.startswith(d + os.sep):
            return d
    return None


def elaborate_pass(script: n.Script, library: TapsetLibrary, opts: Options) -> Compiled:
    aliases = list(script.aliases)
    extra_functions: list[n.Function] = []
    extra_globals: list[n.Global] = []
    # pull in tapset files defining aliases the script's probe points may need
    for probe in script.probes:
        for point in probe.points:
            for path in library.files_defining_alias(point.components[0].name):
                lib_script = library.load(path)
                if lib_script is not None:
                    aliases += lib_script.aliases
                    extra_functions += lib_script.functions
                    extra_globals += lib_script.globals
    set_target_command(opts.target_cmd)       # process.function(...) probes -c's program
    set_target_pid(opts.target_pid)           # ... or -x's
    take_warnings()
    probes, diags = elaborate(script.probes, aliases)
    found = [Diagnostic("WARNING", w) for w in take_warnings()]      # resolution's (stap's dwarf) warnings
    diags = library.errors + diags
    if diags:
        raise CompileFailed(2, found + diags)
    if not probes:
        raise CompileFailed(2, found + [Diagnostic("semantic error", "no probes found")])
    program, errors = check(script, probes, library, extra_functions, extra_globals, guru=opts.guru)
    if errors:
        raise CompileFailed(2, found + program.warnings + errors)
    warnings = found + list(program.warnings)
    if not opts.unoptimized:
        warnings += elide(program)
        if not program.probes:
            raise CompileFailed(2, warnings + [Diagnostic("semantic error", "no probes found")])
    return Compiled(script, program.probes, program, warnings=warnings)


def listing_pass2(c: Compiled) -> str:
    """stap's `-p2` listing: globals, functions, probes with their locals."""
    out: list[str] = []
    prog = c.program
    used = [v for v in prog.globals.values() if v.read or v.written]
    if used:
        out.append("# globals")
        for v in used:
            size = f"[{v.decl.size}]" if v.decl is not None and v.decl.size else ""
            idx = f" [{', '.join(type_name(t) for t in v.index_types)}]" if v.arity else ""
            out.append(f"{v.name}{size}:{type_name(v.type)}{idx}")
    funcs: list[str] = []
    for fi in sorted(prog.functions.values(), key=lambda f: f.node.name):
        params = ", ".join(f"{p.name}:{type_name(p.type)}" for p in fi.params)
        funcs.append(f"{fi.node.name}:{type_name(fi.ret)} ({params})")
    seen: set[str] = set()
    for b in sorted(_used_builtins(c), key=lambda b: b.name):
        if b.name in seen:
            continue
        seen.add(b.name)
        names = list(inspect.signature(b.impl).parameters)[1 if b.needs_ctx else 0:]
        params = ", ".join(f"{nm}:{type_name(t)}" for nm, t in zip(names, b.params))
        funcs.append(f"{b.name}:{type_name(b.ret)} ({params})")
    if funcs:
        out.append("# functions")
        out.extend(sorted(funcs))
    out.append("# probes")
    for p in c.probes:
        pc = p.spec.params.get("pc_comment")    # DWARF probes: stap prints the address, and
        if pc is None:                          # the resolved point as its own derivation
            out.append(f"{p.pp} /* <- {p.spec.params.get('derivation') or p.derivation} */")
        else:
            mark = "!" if p.point.sufficient else ("?" if p.point.optional else "")
            shown = p.spec.params.get("p2_pp") or p.pp        # SDT marks: the statement probe
            out.append(f"{shown}{mark} {pc} /* <- {p.spec.params['derived_from']}{mark} */")
        locals_ = prog.probe_locals.get(id(p.body), {})
        shown = [v for v in locals_.values() if v.scope == "local"]
        if shown:
            out.append("  # locals")
            out.extend(f"  {v.name}:{type_name(v.type)}" for v in shown)
    return "\n".join(out) + "\n"


def _used_builtins(c: Compiled) -> list[Builtin]:
    found: list[Builtin] = []

    def visit(node: Any) -> None:
        if isinstance(node, n.Call) and isinstance(node.target, Builtin):
            found.append(node.target)
        if isinstance(node, list):
            for x in node:
                visit(x)
        elif isinstance(node, n.Node):
            for val in n.subtrees(node):
                visit(val)
    bodies: set[int] = set()
    for p in c.probes:              # the probes of one wildcard point share their body
        if id(p.body) not in bodies:
            bodies.add(id(p.body))
            visit(p.body)
    for fi in c.program.functions.values():
        visit(fi.node.body)
    return found


def compile_script(opts: Options) -> Compiled:
    timer = Timer(opts)
    script, _env, _macros, library = parse_pass(opts)
    timer.done(f"Pass 1: parsed user script and {plural(len(library.loaded), 'library script')}")
    if opts.last_pass == 1:
        return Compiled(script, [], None)  # type: ignore[arg-type]
    compiled = elaborate_pass(script, library, opts)
    used_globals = [v for v in compiled.program.globals.values() if v.read or v.written]
    timer.done(f"Pass 2: analyzed script: {plural(len(compiled.probes), 'probe')}, "
               f"{plural(len(compiled.program.functions) + len({b.name for b in _used_builtins(compiled)}), 'function')}, "
               f"0 embeds, {plural(len(used_globals), 'global')}")
    if opts.last_pass == 2:
        return compiled
    compiled.generated = generate(compiled.program, opts)
    timer.done("Pass 3: translated to Python source")
    compiled.timer = timer
    return compiled
