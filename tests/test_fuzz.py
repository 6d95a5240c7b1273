"""Bounded, deterministic fuzzing: no script may crash uprobe-py.

A user error must always come out as a stap-style message (parse error / semantic
error / ERROR: ...) with exit status 1; a Python traceback, "uprobe-py: internal
error" (exit 2) or a hang reaching the user is a bug.  Three parts:

* mutation fuzzing, in process, passes 1-3 (`main(["-p3", path])`; sometimes -p1,
  -p2, or -p4, which also compiles the generated Python without running it): the
  scripts of tests/conformance and tests/errors are cut into tokens and mutated
  (tokens deleted, duplicated, swapped, replaced by random operators, keywords,
  literals and preprocessor bits, the script truncated, `%(`, `%)`, `@define`, `$1`,
  `@1`, `{`, `}` inserted), or mutated "typed" (a token replaced by another of its
  lexical class, so that most mutants still parse and reach the semantic passes
  and code generation);
* generative fuzzing, end to end (pass 5) in a subprocess: a small generator of
  valid-looking scripts (globals, arrays, statistics, recursive functions, foreach
  forms, printf with random formats, try/catch, nested expressions, string ops),
  each a `probe begin { ... exit() }` run with `-D MAXACTION=1000`;
* the minimised reproducers of crashes found by longer fuzzing runs, as explicit
  cases expecting a clean message.  They stay as regression tests.

Seeds are fixed; the whole file runs in well under a minute.  Crashes already known
(listed in KNOWN_CRASHES, each with its xfail reproducer below) are tolerated by the
bulk runs so that they keep looking for new ones; drop an entry once it is fixed.
"""
from __future__ import annotations

import io
import os
import random
import re
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from uprobe_py.cli import main

# ---------------------------------------------------------------- running one script

HANG_SECONDS = 10      # pass 1-3 of a few hundred bytes of script takes milliseconds
RUN_SECONDS = 30       # a generated script, end to end, under MAXACTION=1000

_FRAME = re.compile(r'File "([^"]*uprobe_py[/\\][^"]*)", line (\d+), in (\S+)')


class _Hang(BaseException):
    """Raised by SIGALRM; a BaseException so that cli.main's `except Exception` lets it by."""


def _signature(exc_type: str, tb_text: str) -> str:
    """`ExceptionType @ file.py:function`, the innermost uprobe_py frame: how crashes are deduplicated."""
    frames = _FRAME.findall(tb_text)
    if not frames:
        return f"{exc_type} @ ?"
    path, _line, func = frames[-1]
    return f"{exc_type} @ {os.path.basename(path)}:{func}"


def _crash_of(rc: object, stderr: str) -> str | None:
    """None if the run ended the way a user may see it, else the crash's signature."""
    if rc in (0, 1) and "internal error" not in stderr and "Traceback" not in stderr:
        return None
    last = [ln for ln in stderr.strip().splitlines() if ln and not ln.startswith(" ")]
    exc_type = last[-1].split(":", 1)[0] if last else f"exit {rc}"
    m = re.search(r"internal error: (\w+)", stderr)
    if m and "Traceback" not in stderr:
        exc_type = m.group(1)
    return _signature(exc_type, stderr)


def compile_in_process(text: str, args: tuple[str, ...] = (), passno: str = "-p3",
                       path: Path | None = None, hang_seconds: int = HANG_SECONDS
                       ) -> tuple[object, str, str | None]:
    """Run `main([passno, path, *args])` in this process: (exit status, stderr, crash signature)."""
    assert path is not None
    path.write_bytes(text.encode("latin-1", "replace"))
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    if use_alarm:
        def on_alarm(signum, frame):
            raise _Hang()
        old_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(hang_seconds)
    try:
        sys.stdout, sys.stderr = out, err
        # -p4 sets up the output stream, which needs a real file descriptor: give it one
        out_opt = ["-o", os.devnull] if passno in ("-p4", "-p5") else []
        rc = main([passno, *out_opt, "--show-traceback", str(path), *args])
    except _Hang as e:
        tb = "".join(traceback.format_exception(e))
        return "hang", err.getvalue(), _signature("hang", tb)
    except BaseException as e:   # noqa: BLE001 - anything escaping main is a crash
        tb = "".join(traceback.format_exception(e))
        return "escaped", err.getvalue() + tb, _signature(type(e).__name__, tb)
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old_handler)
        sys.stdout, sys.stderr = saved
    stderr = err.getvalue()
    return rc, stderr, _crash_of(rc, stderr)


def run_subprocess(argv: list[str], timeout: float = RUN_SECONDS) -> tuple[object, str, str | None]:
    """`python -m uprobe_py ARGV`: (exit status or "hang", stderr, crash signature)."""
    try:
        p = subprocess.run([sys.executable, "-m", "uprobe_py", *argv], check=False, cwd=ROOT, capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", "", "hang @ ?"
    stderr = p.stderr.decode("latin-1")
    return p.returncode, stderr, _crash_of(p.returncode, stderr)


# Crashes found by fuzzing that are not fixed yet: (signature pattern, stderr pattern) -> test.
# Every crash found so far is fixed; its reproducer below stays as a regression test.
KNOWN_CRASHES: dict[tuple[str, str], str] = {}


def _known(sig: str, stderr: str) -> bool:
    return any(re.fullmatch(p, sig) and re.search(e, stderr) for p, e in KNOWN_CRASHES)


# ---------------------------------------------------------------- tokens and mutations

_TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<embedded>%\{.*?%\})
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<number>0[xX][0-9a-fA-F]+|\d+)
  | (?P<ident>[$@]?[A-Za-z_][A-Za-z0-9_$@]*|[$@][0-9#]+)
  | (?P<op><<<|<<=|>>=|\.\.\.|==|!=|<=|>=|\+=|-=|\*=|/=|%=|&=|\^=|\|=|\.=|&&|\|\||\+\+|--|->|<<|>>
          |=~|!~|%\(|%\?|%:|%\)|.)
''', re.X | re.S)

Tok = tuple[str, str]      # (whitespace before, token text)


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    ws = ""
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None
        pos = m.end()
        if m.lastgroup in ("ws", "comment"):
            ws += "\n" if "\n" in m.group() else " "
            continue
        out.append((ws, m.group()))
        ws = ""
    return out


def detokenize(toks: list[Tok]) -> str:
    return "".join(ws + t for ws, t in toks) + "\n"


OPERATORS = """<<< <<= >>= ... == != <= >= += -= *= /= %= &= ^= |= .= && || ++ -- -> << >> =~ !~
( ) [ ] { } , ; : . ? = < > + - * / % & | ^ ! ~ $ @ # %( %? %: %)""".split()
KEYWORDS = """probe global private function if else for foreach in limit return delete while
break continue next string long try catch""".split()
SPECIALS = ["%(", "%)", "%?", "%:", "@define", "$1", "@1", "$2", "@2", "$#", "@#", "{", "}", "(", ")",
            "[", "]", ";", "@count", "@sum", "@min", "@max", "@avg", "@hist_linear", "@hist_log",
            "@entry", "@var", "@defined", "@cast", "@choose_defined", "@x", "kernel_v", "kernel_vr",
            "arch", "runtime", "systemtap_v", "systemtap_privilege", "CONFIG_X", "guru_mode", "<<<",
            "%{ x %}", "$var", "$$vars", "$$parms", "$$locals", "$$return", "&", "->", "#", "begin",
            "end", "never", "error", "timer.ms(1)", "process", "kernel", 'function("x")', "exit",
            "println", "printf", "sprintf", "print", "strlen", "substr", "isinstr", "sprint", "delete",
            "*", "?", "!", "%"]
LITERALS = ["0", "1", "-1", "42", "0x10", "010", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "0x", "08", "1e3", '""', '"a"', '"%d"',
            '"%s %d"', '"%"', '"%*d"', '"%-5.3s"', '"%b"', '"%M"', '"%m"', '"%p"', '"%c"', '"%x%X%o%u"',
            '"%#x"', '"%%"', '"%.*s"', '"%1$d"', '"%ld"', '"%lld"', '"%5"', '"\\x41\\0"', '"\\777"',
            '"%+d"', '"%.999999999999d"', '"%999999999999d"', "x", "a", "b", "i", "s", "$x", "_", '"',
            "'", "`", "\\", "\x00", "\xff", "\xe9"]
INSERTS = ["%(", "%)", "@define", "$1", "@1", "{", "}", "%?", "%:"]


def _rand_token(rng: random.Random, pool: list[Tok]) -> str:
    r = rng.random()
    if r < 0.25:
        return rng.choice(OPERATORS)
    if r < 0.4:
        return rng.choice(KEYWORDS)
    if r < 0.6:
        return rng.choice(LITERALS)
    if r < 0.8:
        return rng.choice(SPECIALS)
    return rng.choice(pool)[1]


def mutate(rng: random.Random, toks: list[Tok], pool: list[Tok]) -> list[Tok]:
    toks = list(toks)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 6])):
        if not toks:
            toks.append((" ", _rand_token(rng, pool)))
            continue
        op = rng.randrange(9)
        i = rng.randrange(len(toks))
        if op == 0:
            del toks[i]
        elif op == 1:
            toks.insert(i, toks[i])
        elif op == 2:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = (toks[i][0], toks[j][1]), (toks[j][0], toks[i][1])
        elif op == 3:
            toks[i] = (toks[i][0] or " ", _rand_token(rng, pool))
        elif op == 4:
            toks = toks[:i]
        elif op == 5:
            toks.insert(i, (" ", _rand_token(rng, pool)))
        elif op == 6:
            toks.insert(i, (" ", rng.choice(INSERTS)))
        elif op == 7:
            j = min(len(toks), i + rng.randint(1, 12))
            k = rng.randrange(len(toks) + 1)
            toks[k:k] = toks[i:j]
        else:
            del toks[i:i + rng.randint(1, 8)]
    return toks


BINOPS = "+ - * / % & | ^ << >> && || < > <= >= == != . =~ !~".split()
ASSIGNOPS = "= += -= *= /= %= &= |= ^= <<= >>= .= <<<".split()


def _tclass(t: str) -> str:
    if t.startswith('"'):
        return "str"
    if t[:1].isdigit():
        return "num"
    if t in KEYWORDS:
        return "kw"
    if t[:1].isalpha() or t[:1] == "_":
        return "id"
    if t[:1] in "$@":
        return "at"
    if t in BINOPS:
        return "binop"
    if t in ASSIGNOPS:
        return "assign"
    return "op:" + t


def token_classes(pool: list[Tok]) -> dict[str, list[str]]:
    cls: dict[str, set[str]] = {}
    for _, t in pool:
        cls.setdefault(_tclass(t), set()).add(t)
    cls["binop"] = set(BINOPS)
    cls["assign"] = set(ASSIGNOPS)
    cls.setdefault("num", set()).update({"0", "-1", "9223372036854775807", "18446744073709551615",
                                          "0x8000000000000000"})
    return {k: sorted(v) for k, v in cls.items()}


def mutate_typed(rng: random.Random, toks: list[Tok], classes: dict[str, list[str]]) -> list[Tok]:
    """Replace tokens by others of their lexical class (or swap two): mostly still parses."""
    toks = list(toks)
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        if not toks:
            break
        i = rng.randrange(len(toks))
        c = _tclass(toks[i][1])
        pool = classes.get(c, [])
        if len(pool) > 1:
            toks[i] = (toks[i][0], rng.choice(pool))
        elif rng.random() < 0.5:
            j = rng.choice([j for j, (_, t) in enumerate(toks) if _tclass(t) == c])
            toks[i], toks[j] = (toks[i][0], toks[j][1]), (toks[j][0], toks[i][1])
    return toks


# ---------------------------------------------------------------- a generator of valid-looking scripts

INT_LITS = ["0", "1", "2", "3", "7", "-1", "-5", "10", "100", "255", "0x1f", "017", "1000000",
            "9223372036854775807", "-9223372036854775808", "4294967296", "65536"]
STR_LITS = ['""', '"a"', '"abc"', '"hello world"', '"x\\ny"', '"tab\\there"', '"%d"', '"\\x41"',
            '"\\101"', '"quote\\""', '"long string value here"', '"\xe9t\xe9"', '"0"', '"12"', '"-3"']
FLAGS = ["", "", "", "-", "0", "+", " ", "#"]     # stap takes one flag per conversion


class ScriptGen:
    """Random scripts that mostly pass stap's checks: typed names (x*/i*/k* long, s* string),
    globals initialised in the first begin probe, arrays never modified while iterated,
    recursion bounded by a depth argument `d`, one histogram shape per statistic."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.depth = 0
        self.counter = 0
        self.globals_int: list[str] = []
        self.globals_str: list[str] = []
        self.arrays: list[tuple[str, list[str], str]] = []       # name, key types, value type
        self.stats: list[str] = []
        self.stat_arrays: list[tuple[str, list[str]]] = []
        self.funcs: list[tuple[str, list[str], str]] = []        # name, param types, return type
        self.int_vars: list[str] = []
        self.str_vars: list[str] = []
        self.in_loop = 0
        self.in_func: tuple[str, list[str], str] | None = None
        self.iterating: set[str] = set()
        self.histkind: dict[str, str] = {}
        self.extra_probes: list[str] = []

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- expressions
    def iexpr(self, d: int = 0) -> str:
        r = self.r
        if d > 3 or r.random() < 0.3:
            if r.random() < 0.35 or not (self.int_vars or self.globals_int):
                return r.choice(INT_LITS)
            return r.choice(self.int_vars + self.globals_int)
        k = r.randrange(20)
        if k < 5:
            op = r.choice(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "&&", "||",
                           "<", ">", "<=", ">=", "==", "!="])
            a, b = self.iexpr(d + 1), self.iexpr(d + 1)
            if op in ("/", "%") and r.random() < 0.8:
                b = f"({b} ? {b} : 1)" if r.random() < 0.5 else r.choice(["3", "7", "-2"])
            if op in ("<<", ">>"):
                b = r.choice(["0", "1", "3", "63", "64", "-1", b])
            return f"({a} {op} {b})"
        if k == 5:
            return f"{r.choice(['-', '!', '~', '+'])}({self.iexpr(d + 1)})"
        if k == 6:
            return f"({self.iexpr(d + 1)} ? {self.iexpr(d + 1)} : {self.iexpr(d + 1)})"
        if k == 7:
            return f"strlen({self.sexpr(d + 1)})"
        if k == 8:
            op = r.choice(["==", "!=", "<", ">", "<=", ">="])
            return f"({self.sexpr(d + 1)} {op} {self.sexpr(d + 1)})"
        if k == 9:
            arrs = [a for a in self.arrays if a[2] == "long"]
            if arrs:
                a = r.choice(arrs)
                return f"{a[0]}[{self.keys(a[1], d)}]"
        if k == 10 and self.arrays:
            a = r.choice(self.arrays)
            if len(a[1]) > 1 or r.random() < 0.5:
                return f"([{self.keys(a[1], d)}] in {a[0]})"
            return f"({self.keys(a[1], d)} in {a[0]})"
        if k == 11 and (self.stats or self.stat_arrays):
            fn = r.choice(["@count", "@sum", "@min", "@max", "@avg", "@variance"])
            if self.stats and (not self.stat_arrays or r.random() < 0.5):
                return f"{fn}({r.choice(self.stats)})"
            s = r.choice(self.stat_arrays)
            return f"{fn}({s[0]}[{self.keys(s[1], d)}])"
        if k == 12:
            fs = [f for f in self.funcs if f[2] == "long"]
            if fs:
                return self.call(r.choice(fs), d)
        if k == 13:
            return r.choice([f"isinstr({self.sexpr(d + 1)}, {self.sexpr(d + 1)})",
                             f"strpos({self.sexpr(d + 1)}, {self.sexpr(d + 1)})",
                             f"strtol({self.sexpr(d + 1)}, {r.choice(['10', '16', '8', '2', '0', '36'])})",
                             f"isdigit({self.sexpr(d + 1)})",
                             f"stringat({self.sexpr(d + 1)}, {r.choice(['0', '1', '2'])})",
                             f"randint({r.choice(['1', '10', '100'])})",
                             f"(-({self.iexpr(d + 1)}))",
                             "(" + self.sexpr(d + 1) + " =~ " +
                             r.choice(['"a"', '"^[a-z]+$"', '"(x|y)*"', '"[0-9]"']) + ")"])
        if k == 14 and self.int_vars:
            v = r.choice(self.int_vars)
            return r.choice([f"{v}++", f"(++{v})", f"{v}--", f"(--{v})", f"({v} += {self.iexpr(d + 1)})"])
        if k == 15 and self.arrays:
            a = r.choice(self.arrays)
            if len(a[1]) > 1 and r.random() < 0.5:
                ks = [self.key(t, d) if r.random() < 0.5 else "*" for t in a[1]]
                return f"([{', '.join(ks)}] in {a[0]})"
        if k == 16:
            return r.choice(["pid()", "tid()", "cpu()", "target()", "gettimeofday_s() > 0",
                             "$#", "uid() >= 0", "is_return()", "ppid() > 0"])
        return r.choice(INT_LITS) if r.random() < 0.3 else f"({self.iexpr(d + 1)})"

    def sexpr(self, d: int = 0) -> str:
        r = self.r
        if d > 3 or r.random() < 0.3:
            if r.random() < 0.5 or not (self.str_vars or self.globals_str):
                return r.choice(STR_LITS)
            return r.choice(self.str_vars + self.globals_str)
        k = r.randrange(12)
        if k < 3:
            return f"({self.sexpr(d + 1)} . {self.sexpr(d + 1)})"
        if k == 3:
            f, a = self.fmt()
            return f"sprintf(\"{f}\"{''.join(', ' + x for x in a)})"
        if k == 4:
            return (f"substr({self.sexpr(d + 1)}, {r.choice(['0', '1', '2', '-1', '100'])}, "
                    f"{r.choice(['0', '1', '3', '-1', '1000'])})")
        if k == 5:
            return f"str_replace({self.sexpr(d + 1)}, {r.choice(STR_LITS)}, {self.sexpr(d + 1)})"
        if k == 6:
            arrs = [a for a in self.arrays if a[2] == "string"]
            if arrs:
                a = r.choice(arrs)
                return f"{a[0]}[{self.keys(a[1], d)}]"
        if k == 7:
            fs = [f for f in self.funcs if f[2] == "string"]
            if fs:
                return self.call(r.choice(fs), d)
        if k == 8:
            return f"({self.iexpr(d + 1)} ? {self.sexpr(d + 1)} : {self.sexpr(d + 1)})"
        if k == 9:
            return r.choice([f"sprint({self.iexpr(d + 1)})", f"sprint({self.sexpr(d + 1)})",
                             f"string_quoted({self.sexpr(d + 1)})", f"text_str({self.sexpr(d + 1)})",
                             (f"text_strn({self.sexpr(d + 1)}, {r.choice(['0', '3', '10'])}, "
                              f"{r.choice(['0', '1'])})"),
                             f"tokenize({self.sexpr(d + 1)}, \" \")", 'tokenize("", " ")',
                             "execname()", "pp()", f"errno_str({r.choice(['1', '2', '0', '-1', '999'])})",
                             f"bytes_to_string({self.iexpr(d + 1)})", f"ctime({self.iexpr(d + 1)})"])
        if k == 10 and self.stats:
            return r.choice([f"sprint({self.hist(r.choice(self.stats))})",
                             f"sprint(@count({r.choice(self.stats)}))"])
        return r.choice(STR_LITS)

    def fmt(self) -> tuple[str, list[str]]:
        r = self.r
        parts: list[str] = []
        args: list[str] = []
        for _ in range(r.randint(0, 4)):
            if r.random() < 0.4:
                parts.append(r.choice(["x", " ", "=", "ab", "\\n", "\\t", "%%", ":"]))
                continue
            conv = r.choice("ddiuxXosscpbdsxmM" if r.random() < 0.1 else "ddiuxXosscpbdsx")
            spec = "%" + r.choice(FLAGS)
            width = r.choice(["", "", "3", "10", "*", "0", "1"])
            spec += width
            if width == "*":
                args.append(r.choice(["3", "-4", "0", "12"]))
            prec = r.choice(["", "", ".2", ".0", ".*", "."])
            spec += prec
            if prec == ".*":
                args.append(r.choice(["1", "0", "5", "-1"]))
            spec += (r.choice(["", "", "l"]) if conv in "diuxXo" else "") + conv
            parts.append(spec)
            if conv == "s":
                args.append(self.sexpr(2))
            elif conv == "c":
                args.append(r.choice(["65", "0", "256", "10", self.iexpr(2)]))
            elif conv == "b":
                args.append(r.choice(["65", "0", "-1", self.iexpr(2)]))
            else:
                args.append(self.iexpr(2))
        return "".join(parts), args

    def key(self, t: str, d: int) -> str:
        return self.iexpr(d + 2) if t == "long" else self.sexpr(d + 2)

    def keys(self, ts: list[str], d: int) -> str:
        return ", ".join(self.key(t, d) for t in ts)

    def call(self, f: tuple[str, list[str], str], d: int) -> str:
        name, params, _ = f
        args = [self.r.choice(["0", "1", "2", "3"])]
        args += [self.iexpr(d + 2) if p == "long" else self.sexpr(d + 2) for p in params[1:]]
        return f"{name}({', '.join(args)})"

    def anyexpr(self) -> str:
        return self.iexpr() if self.r.random() < 0.5 else self.sexpr()

    def hist(self, s: str) -> str:
        kind = self.histkind.setdefault(s, self.r.choice(["log", "0, 100, 10", "-10, 10, 5",
                                                          "0, 1000, 100", "0, 3, 1"]))
        return f"@hist_log({s})" if kind == "log" else f"@hist_linear({s}, {kind})"

    def mod_arrays(self) -> list[tuple[str, list[str], str]]:
        return [] if self.in_func else [a for a in self.arrays if a[0] not in self.iterating]

    def mod_stat_arrays(self) -> list[tuple[str, list[str]]]:
        return [] if self.in_func else [a for a in self.stat_arrays if a[0] not in self.iterating]

    # -- statements
    def block(self, n: int | None = None, ind: str = "  ") -> str:
        return "\n".join(self.stmt(ind) for _ in range(self.r.randint(1, 5) if n is None else n))

    def stmt(self, ind: str) -> str:
        r = self.r
        self.depth += 1
        try:
            if self.depth > 4:
                return ind + self.simple()
            k = r.randrange(22)
            if k == 6:
                s = f"if ({self.iexpr()}) {{\n{self.block(None, ind + '  ')}\n{ind}}}"
                if r.random() < 0.5:
                    s += f" else {{\n{self.block(None, ind + '  ')}\n{ind}}}"
                return ind + s
            if k in (7, 8):
                v = self.fresh("i" if k == 7 else "w")
                self.int_vars.append(v)
                self.in_loop += 1
                b = self.block(None, ind + "  ")
                self.in_loop -= 1
                if k == 7:
                    return f"{ind}for ({v} = 0; {v} < {r.randint(0, 5)}; {v}++) {{\n{b}\n{ind}}}"
                return f"{ind}{v} = {r.randint(0, 4)}\n{ind}while ({v}-- > 0) {{\n{b}\n{ind}}}"
            if k in (9, 10) and (self.arrays or self.stat_arrays):
                return self.foreach(ind)
            if k == 11:
                self.depth += 1
                b = self.block(None, ind + "  ")
                if r.random() < 0.6:
                    mv = self.fresh("msg")
                    self.str_vars.append(mv)
                    c = self.block(None, ind + "  ") + f"\n{ind}  println(\"caught: \", {mv})"
                    return f"{ind}try {{\n{b}\n{ind}}} catch ({mv}) {{\n{c}\n{ind}}}"
                return f"{ind}try {{\n{b}\n{ind}}} catch {{\n{self.block(1, ind + '  ')}\n{ind}}}"
            if k == 12 and self.in_loop:
                return ind + r.choice(["break", "continue"])
            if k == 13:
                f, a = self.fmt()
                return f"{ind}printf(\"{f}\\n\"{''.join(', ' + x for x in a)})"
            if k == 14:
                return f"{ind}println({', '.join(self.anyexpr() for _ in range(r.randint(1, 3)))})"
            if k == 15 and self.mod_arrays():
                a = r.choice(self.mod_arrays())
                if r.random() < 0.3:
                    return f"{ind}delete {a[0]}"
                ks = [self.key(t, 0) if r.random() < 0.7 else "*" for t in a[1]]
                return f"{ind}delete {a[0]}[{', '.join(ks)}]"
            if k == 16 and (self.stats or self.stat_arrays):
                if self.stats and r.random() < 0.5:
                    return f"{ind}print({self.hist(r.choice(self.stats))})"
                if self.mod_stat_arrays():
                    sa = r.choice(self.mod_stat_arrays())
                    return f"{ind}{sa[0]}[{self.keys(sa[1], 0)}] <<< {self.iexpr()}"
            if k == 17:
                return f"{ind}{{\n{self.block(None, ind + '  ')}\n{ind}}}"
            if k == 18 and self.in_func and r.random() < 0.5:
                rt = self.in_func[2]
                return ind + "return " + (self.iexpr() if rt == "long" else self.sexpr())
            if k == 19:
                return f"{ind}print({self.anyexpr()})"
            if k == 20 and r.random() < 0.3:
                # an empty statement, a `;`, or a bare expression (its value elided)
                return ind + r.choice(["", ";", f"; {self.iexpr()}"])
            return ind + self.simple()
        finally:
            self.depth -= 1

    def foreach(self, ind: str) -> str:
        r = self.r
        use_stat = bool(self.stat_arrays) and (not self.arrays or r.random() < 0.3)
        if use_stat:
            name, kts = r.choice(self.stat_arrays)
            vt = None
        else:
            name, kts, vt = r.choice(self.arrays)
        kvars = []
        for t in kts:
            v = self.fresh("k")
            (self.int_vars if t == "long" else self.str_vars).append(v)
            kvars.append(v)
        sort = r.choice(["+", "-"]) if r.random() < 0.3 else ""
        if len(kvars) > 1 or r.random() < 0.3:
            if sort and r.random() < 0.5:
                i = r.randrange(len(kvars))
                target = "[" + ", ".join(v + sort if j == i else v for j, v in enumerate(kvars)) + "]"
                sort = ""
            else:
                target = "[" + ", ".join(kvars) + "]"
        elif sort and r.random() < 0.5:
            target, sort = kvars[0] + sort, ""
        else:
            target = kvars[0]
        val = ""
        if r.random() < 0.4 and not use_stat:
            vv = self.fresh("v")
            (self.int_vars if vt == "long" else self.str_vars).append(vv)
            val = f"{vv} = "
        arr = name
        if r.random() < 0.2 and not use_stat:
            arr = name + "[" + ", ".join(self.key(t, 1) if r.random() < 0.4 else "*" for t in kts) + "]"
        limit = f" limit {r.choice(['0', '1', '3', '-1'])}" if r.random() < 0.25 else ""
        if use_stat and sort and r.random() < 0.6:
            sort = " " + r.choice(["@sum", "@count", "@min", "@max", "@avg"]) + sort
        self.in_loop += 1
        added = name not in self.iterating
        self.iterating.add(name)
        b = self.block(None, ind + "  ")
        if added:
            self.iterating.discard(name)
        self.in_loop -= 1
        if use_stat:
            ks = ", ".join(kvars)
            b += f"\n{ind}  println(@count({name}[{ks}]), \" \", @sum({name}[{ks}]))"
        return f"{ind}foreach ({val}{target} in {arr}{sort}{limit}) {{\n{b}\n{ind}}}"

    def simple(self) -> str:
        r = self.r
        k = r.randrange(10)
        if k < 3:
            if r.random() < 0.5 or not self.int_vars:
                known = self.int_vars and r.random() >= 0.4
                v = r.choice(self.int_vars) if known else self.fresh("x")
                e = self.iexpr()
                if not known:
                    self.int_vars.append(v)
                    return f"{v} = {e}"
                return f"{v} {r.choice(['=', '=', '+=', '-=', '*=', '|=', '^=', '<<=', '&='])} {e}"
            known = self.str_vars and r.random() >= 0.4
            v = r.choice(self.str_vars) if known else self.fresh("s")
            e = self.sexpr()
            if not known:
                self.str_vars.append(v)
                return f"{v} = {e}"
            return f"{v} {r.choice(['=', '.='])} {e}"
        if k == 3 and self.globals_int:
            return f"{r.choice(self.globals_int)} {r.choice(['=', '+=', '-='])} {self.iexpr()}"
        if k == 4 and self.globals_str:
            return f"{r.choice(self.globals_str)} {r.choice(['=', '.='])} {self.sexpr()}"
        if k == 5 and self.mod_arrays():
            a = r.choice(self.mod_arrays())
            if a[2] == "long":
                return f"{a[0]}[{self.keys(a[1], 0)}] {r.choice(['=', '+='])} {self.iexpr()}"
            return f"{a[0]}[{self.keys(a[1], 0)}] {r.choice(['=', '.='])} {self.sexpr()}"
        if k == 6 and self.stats:
            return f"{r.choice(self.stats)} <<< {self.iexpr()}"
        if k == 7 and self.mod_stat_arrays():
            sa = r.choice(self.mod_stat_arrays())
            return f"{sa[0]}[{self.keys(sa[1], 0)}] <<< {self.iexpr()}"
        if k == 8 and self.funcs:
            return self.call(r.choice(self.funcs), 1)
        if k == 9 and r.random() < 0.5:
            longs = [a for a in self.mod_arrays() if a[2] == "long"]
            if longs:
                a = r.choice(longs)
                el = f"{a[0]}[{self.keys(a[1], 1)}]"
                return r.choice([f"{el}++", f"; ++{el}", f"{el}--", f"{el} *= {self.iexpr(2)}"])
            if self.stats and not self.in_func:
                return f"delete {r.choice(self.stats)}"
        return f"println({self.anyexpr()})"

    # -- a whole script
    def script(self) -> str:
        r = self.r
        out: list[str] = []
        for _ in range(r.randint(0, 3)):
            self.globals_int.append(self.fresh("gi"))
            out.append(f"global {self.globals_int[-1]}" + (f" = {r.choice(INT_LITS)}" if r.random() < 0.5 else ""))
        for _ in range(r.randint(0, 2)):
            self.globals_str.append(self.fresh("gs"))
            out.append(f"global {self.globals_str[-1]}" + (f" = {r.choice(STR_LITS)}" if r.random() < 0.5 else ""))
        for _ in range(r.randint(0, 3)):
            g = self.fresh("arr")
            self.arrays.append((g, [r.choice(["long", "string"]) for _ in range(r.choice([1, 1, 1, 2, 3]))],
                                r.choice(["long", "string"])))
            out.append(f"global {g}" + (f"[{r.choice(['10', '100', '3'])}]" if r.random() < 0.2 else ""))
        for _ in range(r.randint(0, 2)):
            self.stats.append(self.fresh("st"))
            out.append(f"global {self.stats[-1]}")
        for _ in range(r.randint(0, 1)):
            g = self.fresh("sa")
            self.stat_arrays.append((g, [r.choice(["long", "string"]) for _ in range(r.randint(1, 2))]))
            out.append(f"global {g}")
        for _ in range(r.randint(0, 3)):       # functions, recursive on a depth argument d
            name = self.fresh("fn")
            rt = r.choice(["long", "string", "long"])
            params = ["long"] + [r.choice(["long", "string"]) for _ in range(r.randint(0, 2))]
            pnames = ["d"] + [self.fresh("p") for _ in params[1:]]
            f = (name, params, rt)
            self.int_vars, self.str_vars = [], []
            for pn, pt in zip(pnames, params):
                (self.int_vars if pt == "long" else self.str_vars).append(pn)
            self.in_func = f
            typed = r.random() < 0.5
            sig = ", ".join(f"{pn}:{pt}" if typed else pn for pn, pt in zip(pnames, params))
            base = self.iexpr(2) if rt == "long" else self.sexpr(2)
            body = self.block(r.randint(1, 4), "  ")
            if not typed and len(params) > 1:      # give untyped parameters a type
                uses = [f"{pn} + 0" if pt == "long" else f'{pn} . ""' for pn, pt in zip(pnames[1:], params[1:])]
                body = "\n".join(f"  if (d < -100) println({u})" for u in uses) + "\n" + body
            self.funcs.append(f)
            rec = f"{name}({', '.join(['d - 1'] + [self.key(p, 1) for p in params[1:]])})"
            tail = f"return {rec} {'+' if rt == 'long' else '.'} {base}" if r.random() < 0.7 else f"return {base}"
            out.append(f"function {name}{':' + rt if typed else ''}({sig}) {{\n"
                       f"  if (d <= 0) return {base}\n{body}\n  {tail}\n}}")
            self.in_func = None
        self.int_vars, self.str_vars = [], []
        if r.random() < 0.3:                    # overloads; the first may `next` to the second
            nm = self.fresh("ov")
            out.append(f"function {nm}(x) {{ if (x > {r.randint(-2, 5)}) next; return \"small\" . sprint(x) }}")
            out.append(f"function {nm}(x) {{ return \"big\" }}")
            out.append(f"function {nm}(x, y) {{ return x . y }}")
            self.funcs.append((nm, ["long"], "string"))
        if r.random() < 0.2:
            nm = self.fresh("pf")
            out.append(f"private function {nm}:long (d:long) {{ return d * {r.choice(INT_LITS)} }}")
            self.funcs.append((nm, ["long"], "long"))
        if r.random() < 0.2:
            al = self.fresh("alias")
            out.append(f"probe {al} {r.choice(['+=', '='])} begin {{ av = {r.choice(INT_LITS)} }}")
            self.extra_probes.append(f"probe {al} {{\n  println(\"alias \", av)\n}}")
        init = [f"  {g} += {r.choice(INT_LITS)}" for g in self.globals_int]
        init += [f"  {g} .= {r.choice(STR_LITS)}" for g in self.globals_str]
        for a, kts, vt in self.arrays:
            init.append(f"  {a}[{self.keys(kts, 3)}] = {r.choice(INT_LITS) if vt == 'long' else r.choice(STR_LITS)}")
        init += [f"  {st} <<< {r.choice(INT_LITS)}" for st in self.stats]
        init += [f"  {sa}[{self.keys(kts, 3)}] <<< {r.choice(INT_LITS)}" for sa, kts in self.stat_arrays]
        body = "\n".join(init + [self.block(r.randint(2, 8), "  ")])
        if r.random() < 0.4:
            body = "  try {\n" + body.replace("\n", "\n  ") + "\n  } catch (e) { println(\"E: \", e) }"
        out.append(f"probe begin {{\n{body}\n  exit()\n}}")
        if r.random() < 0.3:
            self.int_vars, self.str_vars = [], []
            out.append(f"probe end {{\n{self.block(r.randint(1, 3), '  ')}\n}}")
        if r.random() < 0.3:
            self.int_vars, self.str_vars = [], []
            out.append(f"probe begin {{\n{self.block(r.randint(1, 3), '  ')}\n}}")
        out.extend(self.extra_probes)
        if r.random() < 0.2:
            self.int_vars, self.str_vars = [], []
            prio = r.choice(["-1", "1", "100", "-9223372036854775808"])
            out.append(f"probe begin({prio}) {{\n{self.block(r.randint(1, 3), '  ')}\n}}")
        if r.random() < 0.15:
            self.int_vars, self.str_vars = [], []
            out.append(f"probe end, error {{\n{self.block(1, '  ')}\n}}")
        if r.random() < 0.15:
            out.append('%( $# > 0 %? probe begin { println("args") } %: probe begin { println("noargs") } %)')
        macro = r.random() < 0.1
        if macro:
            out.append("probe begin { println(@M(1, 2), @M(@M(3, 4), 5)) }")
        if r.random() < 0.15:
            out.append(f"probe timer.ms({r.choice(['1', '5'])}) {{ tick++ ; if (tick > 3) exit() }}")
        if r.random() < 0.2:
            r.shuffle(out)
        if macro:
            out.insert(0, "@define M(a, b) %( ((@a) + (@b)) %)")
        return "\n".join(out) + "\n"


def generate_script(seed: int) -> str:
    return ScriptGen(random.Random(seed)).script()


# ---------------------------------------------------------------- the bulk fuzz runs

def _corpus() -> list[tuple[str, list[Tok]]]:
    files = sorted((HERE / "conformance").glob("*.stp")) + sorted((HERE / "errors").glob("*.stp"))
    return [(f.name, tokenize(f.read_text(encoding="latin-1"))) for f in files]


_CORPUS = _corpus()
_POOL = [t for _, ts in _CORPUS for t in ts]
_CLASSES = token_classes(_POOL)

MUTATION_CHUNKS = 8
MUTATION_PER_CHUNK = 60      # 480 mutants in all
MUTATION_SEED = 20240611


def mutant(seed: int) -> tuple[str, tuple[str, ...], str, str]:
    """(script text, positional args, pass option, origin) of mutant number `seed`."""
    rng = random.Random(MUTATION_SEED * 1_000_003 + seed)
    name, toks = rng.choice(_CORPUS)
    if rng.random() < 0.5:
        toks, how = mutate_typed(rng, toks, _CLASSES), "typed"
    else:
        toks, how = mutate(rng, toks, _POOL), "token"
    passno = rng.choice(["-p3"] * 4 + ["-p4"] * 2 + ["-p1", "-p2"])
    args = rng.choice([(), (), (), ("1",), ("x", "2"), ('"s"',), ("{",), ("1+",)])
    return detokenize(toks), args, passno, f"{how} mutant of {name}"


@pytest.mark.skipif(not _CORPUS, reason="no corpus")
@pytest.mark.parametrize("chunk", range(MUTATION_CHUNKS))
def test_mutation_fuzz_passes_1_to_4(chunk: int, tmp_path: Path) -> None:
    failures = []
    for seed in range(chunk * MUTATION_PER_CHUNK, (chunk + 1) * MUTATION_PER_CHUNK):
        text, args, passno, origin = mutant(seed)
        _rc, stderr, crash = compile_in_process(text, args, passno, tmp_path / "fuzz.stp")
        if crash is not None and not _known(crash, stderr):
            failures.append(f"seed {seed} ({origin}, {passno} {' '.join(args)}): {crash}\n"
                            f"--- script ---\n{text}--- stderr (tail) ---\n{stderr[-1500:]}")
    assert not failures, f"{len(failures)} crash(es):\n\n" + "\n\n".join(failures)


GENERATED_SEEDS = list(range(20))


@pytest.mark.parametrize("seed", GENERATED_SEEDS)
def test_generated_script_runs_cleanly(seed: int) -> None:
    text = generate_script(9000 + seed)
    rc, stderr, crash = run_subprocess(["-D", "MAXACTION=1000", "--show-traceback", "-e", text])
    if crash is not None and _known(crash, stderr):
        pytest.xfail(f"known crash {crash}")
    assert crash is None, f"{crash}\n--- script ---\n{text}--- stderr ---\n{stderr[-3000:]}"
    assert rc in (0, 1)


def test_generator_makes_mostly_valid_scripts() -> None:
    """Keep the generator honest: its scripts should mostly pass stap's checks (pass 2)."""
    ok = 0
    for seed in range(9000, 9015):
        r = subprocess.run([sys.executable, "-m", "uprobe_py", "-p2", "-e", generate_script(seed)],
                           check=False, cwd=ROOT, capture_output=True, timeout=RUN_SECONDS)
        ok += r.returncode == 0
    assert ok >= 12, f"only {ok}/15 generated scripts pass elaboration"


def test_mutator_is_deterministic() -> None:
    assert [mutant(s) for s in range(5)] == [mutant(s) for s in range(5)]
    assert generate_script(1) == generate_script(1)


# ---------------------------------------------------------------- minimised crash reproducers

def _assert_clean_error(rc: object, stderr: str, crash: str | None, *needles: str) -> None:
    assert crash is None, f"crash {crash}:\n{stderr}"
    assert rc == 1, f"exit {rc}:\n{stderr}"
    assert any(n in stderr for n in needles), stderr


@pytest.mark.parametrize("script", [
    "%(",                                   # IndexError @ frontend.py:parse_script_source
    "%( 1 ==",
    "%( kernel_v >",
    "probe begin {} %( 1 ==",               # IndexError @ token_stream.py:cur
    "probe begin { %( }",
    "@define x(a",                          # the same, through _define's parameter list
    "probe begin {} @define x(a,",
], ids=["lone", "half-condition", "kernel_v", "after-probe", "in-block", "define-params",
        "define-params-after-probe"])
def test_preprocessor_eof_swallowed(script: str, tmp_path: Path) -> None:
    rc, stderr, crash = compile_in_process(script + "\n", (), "-p3", tmp_path / "repro.stp")
    _assert_clean_error(rc, stderr, crash, "parse error")


@pytest.mark.parametrize("script", [
    "@define foo %( @foo %) @foo",
    "@define sq() %( @sq %) @sq",
    "@define a %( @b %) @define b %( @a %) probe begin { println(@a) }",
], ids=["direct", "with-params", "mutual"])
def test_recursive_macro_terminates(script: str, tmp_path: Path) -> None:
    rc, stderr, crash = compile_in_process(script + "\n", (), "-p1", tmp_path / "repro.stp", hang_seconds=2)
    _assert_clean_error(rc, stderr, crash, "parse error", "error:")


@pytest.mark.parametrize("script", [
    'probe begin { print("a") + 1 }',       # also reached as `printf("...")` newline `-5`
    'probe begin { x = 1; x += print("a"); exit() }',
    'probe begin { x = exit() + 1; println(x) }',
    'probe begin { x = -println("x"); println(x); exit() }',
    'probe begin { printf("%d\\n", print("a")); exit() }',
    'probe begin { x = strlen(print("a")); println(x); exit() }',
    'probe begin { s = "a" . print("b"); println(s); exit() }',
], ids=["plus", "compound-assign", "exit", "unary-minus", "printf-arg", "strlen-arg", "concat"])
def test_void_print_result_as_value(script: str) -> None:
    # stap 4.8 accepts these in passes 1-3 and then fails to compile the C; either a
    # semantic error or a run-time ERROR is acceptable here, but not a traceback.
    rc, stderr, crash = run_subprocess(["-D", "MAXACTION=1000", "--show-traceback", "-e", script])
    _assert_clean_error(rc, stderr, crash, "error:", "ERROR:")


@pytest.mark.parametrize("script", [
    "probe begin { break }",
    "probe begin { continue }",
    "function f() { break } probe begin { f() exit() }",
    "probe begin { if (1) break; exit() }",
    "probe begin { try { continue } catch {} exit() }",
], ids=["break", "continue", "in-function", "in-if", "in-try"])
def test_break_continue_outside_loop(script: str) -> None:
    rc, stderr, crash = run_subprocess(["-p4", "--show-traceback", "-e", script])
    _assert_clean_error(rc, stderr, crash, "semantic error")


@pytest.mark.parametrize("script", [
    "probe begin { x = 1; println(@count(x)) }",
    "function f(z) { println(@count(z)) } probe begin { f(1); exit() }",
    "probe begin { x = 10; z <<< 0; println(x % z); exit() }",
], ids=["count-of-long-local", "count-of-parameter", "stat-local-as-long"])
def test_local_used_as_statistic(script: str) -> None:
    rc, stderr, crash = run_subprocess(["--show-traceback", "-e", script])
    _assert_clean_error(rc, stderr, crash, "semantic error")


def test_closed_stdout_is_not_an_internal_error() -> None:
    cmd = f"exec {sys.executable} -m uprobe_py -e 'probe begin {{ println(1) exit() }}' >&-"
    p = subprocess.run(["sh", "-c", cmd], check=False, cwd=ROOT, stderr=subprocess.PIPE,
                       timeout=RUN_SECONDS)
    stderr = p.stderr.decode("latin-1")
    assert _crash_of(p.returncode, stderr) is None, stderr


@pytest.mark.parametrize(("script", "stdout"), [
    ("probe begin { a$b = 1; println(a$b); exit() }", "1\n"),
    ("global g$1x; probe begin { g$1x = 2; println(g$1x); exit() }", "2\n"),
    ("function f$(a) { return a } probe begin { println(f$(3)); exit() }", "3\n"),
    ("function f(a$) { return a$ } probe begin { println(f(4)); exit() }", "4\n"),
], ids=["local", "global", "function", "parameter"])
def test_dollar_in_identifier(script: str, stdout: str) -> None:
    # stap 4.8 accepts these scripts (`stap -p2` lists e.g. `a$b:long`): they must run
    p = subprocess.run([sys.executable, "-m", "uprobe_py", "--show-traceback", "-e", script], check=False,
                       cwd=ROOT, capture_output=True, timeout=RUN_SECONDS)
    stderr = p.stderr.decode("latin-1")
    assert _crash_of(p.returncode, stderr) is None, stderr
    assert (p.returncode, p.stdout.decode("latin-1")) == (0, stdout), stderr


@pytest.mark.parametrize("script", [
    "probe begin { a@b = 1; println(a@b); exit() }",
    "@define sq(x) %( ((catch@x) * (@x)) %) probe begin { println(@sq(3)); exit() }",
], ids=["local", "macro-body"])
def test_at_inside_identifier(script: str) -> None:
    rc, stderr, crash = run_subprocess(["-p4", "--show-traceback", "-e", script])
    _assert_clean_error(rc, stderr, crash, "parse error")
