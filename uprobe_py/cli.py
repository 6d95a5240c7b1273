"""`uprobe-py`: stap's command line, its messages and its exit codes.

Options are read the way stap reads them: options first, then the script (a
file, `-` for stdin, or `-e TEXT`), then the script's positional arguments.
Exit status: 0 on success, 1 on any user error (parse, semantic, run time,
usage), 2 on an internal error (a bug: printed with a hint, never a bare
traceback unless --show-traceback).
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Optional

from . import __version__
from .diagnostics import CompileFailed, RenderState, UsageError, render_all
from .driver import compile_script, listing_pass2
from .options import Options

USAGE = """Usage: uprobe-py [options] FILE [ARGS ...]    Run script in file.
   or: uprobe-py [options] - [ARGS ...]       Run script on stdin.
   or: uprobe-py [options] -e SCRIPT [ARGS]   Run given script.
   or: uprobe-py [options] -l PROBE           List matching probes.
   or: uprobe-py [options] -L PROBE           List matching probes and local variables.

SystemTap scripts run in user space, without a kernel module or eBPF.

Options (stap's, where they make sense here):
   --         end of translator options, script options follow
   -h --help  show help
   -V --version  show version
   -p NUM     stop after pass NUM 1-5 (parse, elaborate, translate, compile, run)
   -v         add verbosity to all passes
   -w         suppress warnings
   -W         turn warnings into errors
   -g         guru mode
   -u         unoptimized mode: no elision of unused assignments and effect-free code
   -I DIR     look in DIR for additional .stp script files
   -D NM=VAL  set a limit (MAXACTION, MAXSTRINGLEN, MAXMAPENTRIES, MAXNESTING, MAXERRORS)
   -G VAR=VAL set global variable to value
   -e SCRIPT  run given script instead of a file
   -c CMD     start the probes, run CMD, and exit when it finishes
   -x PID     sets target() to PID
   -o FILE    send script output to file
   -T SECONDS terminate the script after SECONDS
   -l PROBE   list probes matching the pattern
   -L PROBE   list probes and their context variables
   --compatible=VERSION   accepted for stap compatibility
   --show-traceback       on an internal error, show the Python traceback
"""

WITH_ARG = set("pIDGecxoTlLs")


def parse_args(argv: list[str]) -> Options:
    opts = Options()
    script_given = False
    i = 0
    rest: list[str] = []
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest = argv[i + 1:]
            break
        if a in ("-h", "--help"):
            raise SystemExit(_print_and_exit(USAGE, 0))
        if a in ("-V", "--version"):
            raise SystemExit(_print_and_exit(
                f"uprobe-py {__version__}: SystemTap 4.8 language, user-space runtime (ptrace, perf_event_open, "
                "tracefs)\n", 0))
        if a.startswith("--compatible"):
            val = a.split("=", 1)[1] if "=" in a else _next(argv, i, a)
            if "=" not in a:
                i += 1
            opts.compatible = val
            i += 1
            continue
        if a == "--show-traceback":
            opts.show_traceback = True
            i += 1
            continue
        if a.startswith("--"):
            raise UsageError(f"unrecognized option '{a}'")
        if a == "-" or not a.startswith("-"):
            rest = argv[i:]
            break
        # a cluster of short options, e.g. -vp2 or -we 'script'
        j = 1
        while j < len(a):
            ch = a[j]
            if ch in WITH_ARG:
                val = a[j + 1:]
                if not val:
                    i += 1
                    val = _next(argv, i - 1, "-" + ch)
                _apply(opts, ch, val)
                if ch == "e":
                    script_given = True
                break
            _flag(opts, ch)
            j += 1
        i += 1
    if opts.list_pattern is not None:
        return opts
    rest = [os.fsencode(a).decode("latin-1") for a in rest]    # arguments are bytes too
    if not script_given:
        if not rest:
            raise UsageError("A script must be specified.")
        path = rest[0]
        opts.args = rest[1:]
        if path == "-":
            opts.script_name = "<input>"
            opts.script_text = sys.stdin.buffer.read().decode("latin-1")
        else:
            try:
                with open(path, "rb") as f:
                    opts.script_text = f.read().decode("latin-1")
            except OSError as e:
                raise UsageError(f"Unable to open file '{path}': {e.strerror}") from None
            opts.script_name = path
    else:
        opts.args = rest
    return opts


def _next(argv: list[str], i: int, opt: str) -> str:
    if i + 1 >= len(argv):
        raise UsageError(f"option requires an argument -- '{opt.lstrip('-')}'")
    return argv[i + 1]


def _flag(opts: Options, ch: str) -> None:
    if ch == "v":
        opts.verbose += 1
    elif ch == "w":
        opts.warnings = "off"
    elif ch == "W":
        opts.warnings = "error"
    elif ch == "g":
        opts.guru = True
    elif ch == "u":
        opts.unoptimized = True
    elif ch in "PbtFqSk":
        pass    # accepted for compatibility, no effect here
    else:
        raise UsageError(f"invalid option -- '{ch}'")


def _apply(opts: Options, ch: str, val: str) -> None:
    if ch == "p":
        if val not in ("1", "2", "3", "4", "5"):
            raise UsageError(f"Invalid pass number '{val}' (should be 1-5).")
        opts.last_pass = int(val)
    elif ch == "I":
        opts.include_dirs.append(val)
    elif ch == "D":
        name, _, value = val.partition("=")
        try:
            int(value or "1", 0)
        except ValueError:
            if name.startswith("MAX"):
                raise UsageError(f"-D {name}: value must be a number") from None
        opts.defines[name] = value or "1"
    elif ch == "G":
        name, eq, value = val.partition("=")
        if not eq:
            raise UsageError(f"Invalid -G option '{val}': expected NAME=VALUE")
        opts.set_globals[name] = value
    elif ch == "e":
        opts.script_text = os.fsencode(val).decode("latin-1")   # bytes, as files are read
        opts.script_name = "<input>"
    elif ch == "c":
        opts.target_cmd = val
    elif ch == "x":
        try:
            opts.target_pid = int(val)
        except ValueError:
            raise UsageError(f"Invalid target process ID number '{val}'.") from None
    elif ch == "o":
        opts.output = val
    elif ch == "T":
        try:
            opts.timeout = float(val)
        except ValueError:
            raise UsageError(f"Invalid timeout '{val}'.") from None
    elif ch in "lL":
        opts.list_pattern = val
        opts.list_vars = ch == "L"
    elif ch == "s":
        pass


def _write(stream: object, text: str) -> None:
    """Script-derived text goes out byte-exact: one char of our latin-1 strings is one byte."""
    if stream is None:                    # started with that stream closed
        return
    if sys.stdout is not None:
        sys.stdout.flush()
    buf = getattr(stream, "buffer", None)
    if buf is None:                       # a text stream without bytes underneath (tests)
        stream.write(text)                # type: ignore[attr-defined]
        return
    stream.flush()                        # type: ignore[attr-defined]
    buf.write(text.encode("latin-1", "replace"))
    buf.flush()


def out(text: str) -> None:
    _write(sys.stdout, text)


def err(text: str) -> None:
    _write(sys.stderr, text)


def _print_and_exit(text: str, code: int) -> int:
    sys.stdout.write(text)
    sys.stdout.flush()
    return code


def report_compile_failure(e: CompileFailed, opts: Optional[Options]) -> int:
    state = RenderState()
    diags = e.diagnostics
    if opts is not None and opts.warnings == "off":
        diags = [d for d in diags if d.kind != "WARNING"]
    text, suppressed = render_all(diags, state)
    if e.pass_no == 1:
        summary = [d.summary for d in diags if d.summary]
        count = len([d for d in diags if not d.summary])
        text += summary[0] + "\n" if summary else f"{count} parse error{'s' if count != 1 else ''}.\n"
        text += "Pass 1: parse failed.  [man error::pass1]\n"
    else:
        text += f"Pass {e.pass_no}: analysis failed.  [man error::pass{e.pass_no}]\n"
    if suppressed:
        text += f"Number of similar error messages suppressed: {suppressed}.\nRerun with -v to see them.\n"
    err(text)
    return 1


def print_warnings(warnings: list, opts: Options) -> bool:
    """Print warnings (unless -w); True if -W turns them into a failure."""
    if not warnings or opts.warnings == "off":
        return False
    text, suppressed = render_all(warnings)
    if suppressed:
        text += f"Number of similar warning messages suppressed: {suppressed}.\nRerun with -v to see them.\n"
    err(text)
    return opts.warnings == "error"


def run(opts: Options) -> int:
    if opts.list_pattern is not None:
        from .listing import list_probes
        return list_probes(opts)
    compiled = compile_script(opts)
    if opts.last_pass == 1:
        from .dump import dump_script
        out(dump_script(compiled.script, opts.script_name))
        return 0
    if print_warnings(compiled.warnings or [], opts):
        err("Pass 2: analysis failed.  [man error::pass2]\n")
        return 1
    if opts.last_pass == 2:
        out(listing_pass2(compiled))
        return 0
    gen = compiled.generated
    assert gen is not None
    if opts.last_pass == 3:
        out(gen.source)
        return 0
    from .program import load
    from .runtime.output import Output
    from .runtime.session import Session
    try:
        output = Output(opts.output)
    except OSError as e:
        raise UsageError(f"could not open output file '{opts.output}': {e.strerror}") from None
    program = load(gen, opts, output.write)
    timer = compiled.timer
    if timer is not None:
        timer.done("Pass 4: compiled Python handlers")
    if opts.last_pass == 4:
        return 0
    from .globals_cli import apply_set_globals
    apply_set_globals(program, opts)
    session = Session(program, compiled.probes, opts, output)
    if opts.verbose:
        err("Pass 5: starting run.\n")
    rc = session.run()
    if timer is not None:
        timer.done("Pass 5: run completed")
    return rc


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # the passes recurse over the script's nesting; stap accepts deep nesting, so must we
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))
    opts: Optional[Options] = None
    try:
        opts = parse_args(argv)
        return run(opts)
    except CompileFailed as e:
        return report_compile_failure(e, opts)
    except UsageError as e:
        sys.stderr.write(f"{e}\nTry 'uprobe-py --help' for more information.\n")
        return 1
    except KeyboardInterrupt:
        return 1
    except SystemExit as e:
        return int(e.code or 0)
    except Exception:   # an internal error: a bug, reported as such
        if opts is not None and opts.show_traceback:
            traceback.print_exc()
        else:
            exc = sys.exc_info()[1]
            sys.stderr.write(f"uprobe-py: internal error: {type(exc).__name__}: {exc}\n"
                             f"uprobe-py {__version__}; run with --show-traceback and report it.\n")
        return 2


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
