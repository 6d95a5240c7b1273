"""The stap preprocessor, over tokens: `%( COND %? A %: B %)` and `@define` macros.

Conditions are evaluated against the running system (kernel_v, kernel_vr, arch,
CONFIG_*) and this implementation (runtime, systemtap_v, systemtap_privilege,
guru_mode). `runtime` answers "dyninst": uprobe-py, like stap's Dyninst runtime,
runs in user space, so scripts' user-space-only branches are the right ones.
Unselected branches are skipped unparsed, as stap does.

Macros: `@define NAME %( BODY %)` and `@define NAME(a, b) %( ... @a ... %)`;
`.stpm` files in the tapset directories hold library macros. A use `@NAME` or
`@NAME(x, y)` is replaced by its body with the parameters substituted.
"""
from __future__ import annotations

import fnmatch
import gzip
import platform
import re
from collections import deque
from dataclasses import dataclass, field

from .diagnostics import Diagnostic
from .lexer import Token

STAP_VERSION = "4.8"


def _kernel_config() -> dict[str, str]:
    cfg: dict[str, str] = {}
    paths = ["/proc/config.gz", f"/boot/config-{platform.release()}"]
    for p in paths:
        try:
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rt") as f:  # type: ignore[operator]
                for line in f:
                    if line.startswith("CONFIG_") and "=" in line:
                        k, v = line.rstrip("\n").split("=", 1)
                        cfg[k] = v.strip('"')
            return cfg
        except OSError:
            continue
    return cfg


@dataclass
class Environment:
    """What preprocessor conditions are evaluated against."""
    kernel_vr: str = field(default_factory=platform.release)
    arch: str = field(default_factory=lambda: {"aarch64": "arm64"}.get(platform.machine(), platform.machine()))
    runtime: str = "dyninst"
    systemtap_v: str = STAP_VERSION
    privilege: str = "stapdev"
    guru: bool = False
    _config: dict[str, str] | None = None

    @property
    def kernel_v(self) -> str:
        m = re.match(r"[0-9.]+", self.kernel_vr)
        return m.group(0).rstrip(".") if m else self.kernel_vr

    def config(self, name: str) -> str:
        if self._config is None:
            self._config = _kernel_config()
        return self._config.get(name, "")


def strverscmp(a: str, b: str) -> int:
    """Version comparison in the spirit of glibc's strverscmp for dotted versions."""
    def parts(s: str) -> list[object]:
        return [int(p) if p.isdigit() else p for p in re.findall(r"\d+|[^\d]+", s)]
    pa, pb = parts(a), parts(b)
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        return -1 if str(x) < str(y) else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


class PreprocessError(Exception):
    def __init__(self, msg: str, tok: Token) -> None:
        super().__init__(msg)
        self.msg = msg
        self.tok = tok


@dataclass
class Macro:
    name: str
    params: list[str]
    body: list[Token]


_CMP = {"<": lambda c: c < 0, "<=": lambda c: c <= 0, "==": lambda c: c == 0,
        "!=": lambda c: c != 0, ">=": lambda c: c >= 0, ">": lambda c: c > 0}


UNKNOWN_CONDITION = ("expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v',\n"
                     "             'runtime', 'systemtap_privilege', 'CONFIG_...', or\n"
                     "             comparison between strings or integers")


@dataclass
class _Frame:
    """An open `%( ... %)`: where it started and which part is flowing."""
    start: Token
    seen_else: bool


class Preprocessor:
    """Runs over a token list; errors use stap's wording and its recovery.

    Recovery follows stap: a condition is always read as `LHS OP RHS` (three
    tokens) chained with `&&`/`||`; when it is bad, or its `%?` is missing, the
    conditional is dropped and its later `%?`, `%:` and `%)` are reported as
    strays ("incomplete conditional - missing '%('").
    """

    def __init__(self, env: Environment, macros: dict[str, Macro] | None = None) -> None:
        self.env = env
        self.macros: dict[str, Macro] = dict(macros or {})
        self.local_macros: dict[str, Token] = {}
        self.errors: list[Diagnostic] = []
        self.expansions = 0

    def _err(self, msg: str, tok: Token) -> None:
        self.errors.append(Diagnostic("parse error", msg, tok, at_word="at"))

    # --- driver -----------------------------------------------------------
    def run(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        q = deque(tokens)
        frames: list[_Frame] = []
        while q:
            tok = q.popleft()
            if tok.kind == "eof":
                for fr in reversed(frames):
                    self._err("incomplete conditional at end of file", fr.start)
                out.append(tok)
                break
            try:
                if tok.kind == "operator":
                    text = tok.text
                    if text == "%(":
                        fr = self._conditional(tok, q)
                        if fr is not None:
                            frames.append(fr)
                        continue
                    if text in ("%?", "%:", "%)"):
                        if not frames or text == "%?":
                            self._err("incomplete conditional - missing '%('", tok)
                            continue
                        if text == "%)":
                            frames.pop()
                            continue
                        # `%:` ends a then-branch that was taken: skip the else-branch
                        fr = frames[-1]
                        if fr.seen_else:
                            self._err("invalid conditional - duplicate '%:'", tok)
                            continue
                        fr.seen_else = True
                        self._skip_branch(fr, q)
                        frames.pop()
                        continue
                    if text == "@define":
                        self._define(tok, q)
                        continue
                    if text.startswith("@") and text[1:] in self.macros:
                        try:
                            self._expand(tok, q)
                        except PreprocessError as e:
                            out.append(Token("junk", e.tok.text, e.tok.loc, error=e.msg,
                                             shown_as=e.tok.kind))
                        continue
            except PreprocessError as e:
                self._err(e.msg, e.tok)
                continue
            out.append(tok)
        return out

    # --- conditionals ----------------------------------------------------
    def _conditional(self, start: Token, q: deque[Token]) -> _Frame | None:
        """Read `COND %?`; leave the chosen branch flowing. Returns the open frame, if any."""
        try:
            value = self._condition(start, q)
        except PreprocessError as e:
            self._err(e.msg, e.tok)
            return None
        if not q or not q[0].is_op("%?"):
            self._err("expected '%?' marker for conditional", start)
            self._skip_to_close(q)
            return None
        q.popleft()
        fr = _Frame(start, seen_else=False)
        if value:
            return fr
        # skip the then-branch up to its `%:` (else flows) or `%)` (nothing flows)
        end = self._skip_through(q, start, else_ends=True)
        if end is not None and end.is_op("%:"):
            fr.seen_else = True
            return fr
        return None

    def _skip_branch(self, fr: _Frame, q: deque[Token]) -> None:
        """Skip an else-branch through its closing `%)` (duplicate `%:` is an error)."""
        self._skip_through(q, fr.start, else_ends=False)

    def _skip_through(self, q: deque[Token], start: Token, else_ends: bool) -> Token | None:
        """Pop tokens (nested conditionals whole) through the `%)` closing this conditional
        or, with `else_ends`, its `%:` (without, a `%:` is a duplicate-'%:' error); returns
        that token. None when the input ends first (at the eof token, which stays: an
        incomplete conditional, reported at `start`)."""
        nest = 0
        while q:
            t = q[0]
            if t.kind == "eof":
                self._err("incomplete conditional at end of file", start)
                return None
            q.popleft()
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    return t
                nest -= 1
            elif t.is_op("%:") and nest == 0:
                if else_ends:
                    return t
                self._err("invalid conditional - duplicate '%:'", t)
        return None

    @staticmethod
    def _skip_to_close(q: deque[Token]) -> None:
        nest = 0
        while q and q[0].kind != "eof":
            t = q[0]
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    return
                nest -= 1
            q.popleft()

    def _take(self, q: deque[Token], start: Token) -> Token:
        while q and q[0].kind == "operator" and q[0].text.startswith("@") \
                and q[0].text[1:] in self.macros:
            self._expand(q.popleft(), q)
        if not q or q[0].kind == "eof":      # never consume the end of the stream
            raise PreprocessError("incomplete condition after '%('", start)
        return q.popleft()

    def _condition(self, start: Token, q: deque[Token]) -> bool:
        """COND := TERM { (&& | ||) TERM }, evaluated left to right with && binding tighter."""
        ors: list[bool] = []
        acc = self._term(start, q)
        while q and q[0].is_op("&&", "||"):
            op = q.popleft()
            rhs = self._term(start, q)
            if op.text == "&&":
                acc = acc and rhs
            else:
                ors.append(acc)
                acc = rhs
        ors.append(acc)
        return any(ors)

    def _term(self, start: Token, q: deque[Token]) -> bool:
        lhs = self._take(q, start)
        if lhs.is_op("("):
            v = self._condition(start, q)
            close = self._take(q, start)
            if not close.is_op(")"):
                raise PreprocessError("expected ')'", close)
            return v
        op = self._take(q, start)
        rhs = self._take(q, start)
        if not op.is_op(*_CMP):
            raise PreprocessError("expected comparison operator", op)
        return self._compare(lhs, op, rhs)

    def _compare(self, lhs: Token, op: Token, rhs: Token) -> bool:
        test = _CMP[op.text]
        name = lhs.text
        if lhs.kind == "identifier" and name in ("kernel_v", "kernel_vr", "systemtap_v"):
            if rhs.kind != "string":
                raise PreprocessError("expected string literal", rhs)
            have = {"kernel_v": self.env.kernel_v, "kernel_vr": self.env.kernel_vr,
                    "systemtap_v": self.env.systemtap_v}[name]
            want = str(rhs.value)
            if op.text in ("==", "!=") and any(c in want for c in "*?["):
                return fnmatch.fnmatchcase(have, want) == (op.text == "==")
            return test(strverscmp(have, want))
        if lhs.kind == "identifier" and name in ("arch", "runtime", "systemtap_privilege"):
            if rhs.kind != "string":
                raise PreprocessError("expected string literal", rhs)
            have = {"arch": self.env.arch, "runtime": self.env.runtime,
                    "systemtap_privilege": self.env.privilege}[name]
            if op.text not in ("==", "!="):
                raise PreprocessError("expected '==' or '!='", op)
            return fnmatch.fnmatchcase(have, str(rhs.value)) == (op.text == "==")
        if lhs.kind == "identifier" and name == "guru_mode":
            return test(int(self.env.guru) - self._num(rhs))
        if lhs.kind == "identifier" and name.startswith("CONFIG_"):
            have = self.env.config(name)
            if rhs.kind == "string":
                want = str(rhs.value)
                if op.text in ("==", "!="):
                    return fnmatch.fnmatchcase(have, want) == (op.text == "==")
                return test((have > want) - (have < want))
            if rhs.kind == "identifier" and rhs.text.startswith("CONFIG_"):
                return test(self._config_num(have) - self._config_num(self.env.config(rhs.text)))
            return test(self._config_num(have) - self._num(rhs))
        if lhs.kind == "number":
            if rhs.kind != "number":
                raise PreprocessError("expected number literal as right value", rhs)
            return test(self._num(lhs) - self._num(rhs))
        if lhs.kind == "string":
            if rhs.kind != "string":
                raise PreprocessError("expected string literal as right value", rhs)
            a, b = str(lhs.value), str(rhs.value)
            return test((a > b) - (a < b))
        raise PreprocessError(UNKNOWN_CONDITION, lhs)

    @staticmethod
    def _config_num(v: str) -> int:
        try:
            return int(v, 0)
        except ValueError:
            return 0

    @staticmethod
    def _num(t: Token) -> int:
        if t.kind != "number" or not isinstance(t.value, int):
            raise PreprocessError("expected number", t)
        return t.value

    # --- macros ----------------------------------------------------------
    def _define(self, start: Token, q: deque[Token]) -> None:
        if not q or q[0].kind not in ("identifier", "keyword"):
            raise PreprocessError("expected identifier", q[0] if q else start)
        name_tok = q.popleft()
        params: list[str] = []
        if q and q[0].is_op("("):
            q.popleft()
            while q and not q[0].is_op(")"):
                if q[0].kind == "eof":
                    raise PreprocessError("expected ',' or ')'", q[0])
                p = q.popleft()
                if p.kind != "identifier":
                    raise PreprocessError("expected identifier", p)
                params.append(p.text)
                if q and q[0].is_op(","):
                    q.popleft()
            if not q:
                raise PreprocessError("expected ')'", start)
            q.popleft()
        if not q or not q[0].is_op("%("):
            raise PreprocessError("expected '%(' or '('" if not params else "expected '%('",
                                  q[0] if q else start)
        q.popleft()
        body: list[Token] = []
        nest = 0
        while True:
            if not q or q[0].kind == "eof":
                raise PreprocessError("incomplete macro definition - missing '%)'", name_tok)
            t = q.popleft()
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    break
                nest -= 1
            body.append(t)
        prev = self.local_macros.get(name_tok.text)
        if prev is not None:
            self._err(f"attempt to redefine macro '@{name_tok.text}' in the same file", name_tok)
            self._err(f"macro '@{name_tok.text}' first defined here", prev)
            self.errors[-1].anchor = name_tok
            return
        self.local_macros[name_tok.text] = name_tok
        self.macros[name_tok.text] = Macro(name_tok.text, params, body)

    MAX_EXPANSIONS = 100_000

    def _expand(self, use: Token, q: deque[Token]) -> None:
        macro = self.macros[use.text[1:]]
        self.expansions += 1
        if self.expansions > self.MAX_EXPANSIONS:   # a macro that expands to itself, forever
            q.clear()
            q.append(Token("eof", "", use.loc))
            raise PreprocessError(f"too many macro expansions: is '@{macro.name}' recursive?", use)
        args: list[list[Token]] = []
        if macro.params:
            if not q or not q[0].is_op("("):
                raise PreprocessError(f"expected '(' in invocation of macro '@{macro.name}' taking "
                                      f"{len(macro.params)} parameters", q[0] if q else use)
            q.popleft()
            cur: list[Token] = []
            nest = 0
            while True:
                if not q or q[0].kind == "eof":
                    raise PreprocessError("expected one of ', )'", q[0] if q else use)
                t = q.popleft()
                if t.is_op("(", "[", "{"):
                    nest += 1
                elif t.is_op(")", "]", "}"):
                    if nest == 0 and t.is_op(")"):
                        args.append(cur)
                        if len(args) < len(macro.params):
                            raise PreprocessError(f"too few parameters for macro '@{macro.name}' "
                                                  f"(expected {len(macro.params)})", t)
                        break
                    nest -= 1
                elif t.is_op(",") and nest == 0:
                    args.append(cur)
                    cur = []
                    if len(args) >= len(macro.params):
                        raise PreprocessError("expected one of ', )'", t)
                    continue
                cur.append(t)
        binding = {f"@{p}": a for p, a in zip(macro.params, args)}
        expanded: list[Token] = []
        for t in macro.body:
            if t.kind == "operator" and t.text in binding:
                expanded.extend(binding[t.text])
            else:
                expanded.append(t)
        q.extendleft(reversed(expanded))
