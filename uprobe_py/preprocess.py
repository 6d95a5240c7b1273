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
import os
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


class Preprocessor:
    def __init__(self, env: Environment, macros: dict[str, Macro] | None = None) -> None:
        self.env = env
        self.macros: dict[str, Macro] = dict(macros or {})
        self.errors: list[Diagnostic] = []

    # --- driver -----------------------------------------------------------
    def run(self, tokens: list[Token]) -> list[Token]:
        out: list[Token] = []
        q = deque(tokens)
        depth = 0
        while q:
            tok = q.popleft()
            try:
                if tok.kind == "operator" and tok.text == "%(":
                    if self._conditional(tok, q):
                        depth += 1
                    continue
                if tok.kind == "operator" and tok.text in ("%:", "%)") and depth:
                    # end of a taken then-branch: skip the else-branch
                    if tok.text == "%:":
                        self._skip_to_end(tok, q)
                    depth -= 1
                    continue
                if tok.kind == "identifier" and tok.text == "@define":
                    self._define(tok, q)
                    continue
                if tok.kind == "identifier" and tok.text.startswith("@") and tok.text[1:] in self.macros:
                    self._expand(tok, q)
                    continue
            except PreprocessError as e:
                self.errors.append(Diagnostic("parse error", e.msg, e.tok))
                # resynchronise: drop the rest of this conditional
                continue
            out.append(tok)
        return out

    # --- conditionals ----------------------------------------------------
    def _conditional(self, start: Token, q: deque[Token]) -> bool:
        """Consume the condition; leave the chosen branch in `q`. True if a `%:`/`%)` is still to come."""
        cond: list[Token] = []
        while q and not q[0].is_op("%?"):
            t = q.popleft()
            if t.kind == "eof":
                raise PreprocessError("expected '%?' marker for conditional", t)
            if t.kind == "identifier" and t.text.startswith("@") and t.text[1:] in self.macros:
                self._expand(t, q)
                continue
            cond.append(t)
        if not q:
            raise PreprocessError("expected '%?' marker for conditional", start)
        q.popleft()  # %?
        if self._eval(cond, start):
            return True  # the then-branch flows on; run() handles %: / %)
        # skip the then-branch up to %: or %)
        nest = 0
        while q:
            t = q.popleft()
            if t.kind == "eof":
                raise PreprocessError("incomplete conditional - missing %)", t)
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    return False  # no else-branch: the conditional is over
                nest -= 1
            elif t.is_op("%:") and nest == 0:
                return True
        raise PreprocessError("incomplete conditional - missing %)", start)

    def _skip_to_end(self, start: Token, q: deque[Token]) -> None:
        nest = 0
        while q:
            t = q.popleft()
            if t.kind == "eof":
                raise PreprocessError("incomplete conditional - missing %)", t)
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    return
                nest -= 1
        raise PreprocessError("incomplete conditional - missing %)", start)

    def _eval(self, toks: list[Token], start: Token) -> bool:
        # or-of-ands of comparisons; parentheses group
        pos = 0

        def peek() -> Token | None:
            return toks[pos] if pos < len(toks) else None

        def take() -> Token:
            nonlocal pos
            if pos >= len(toks):
                raise PreprocessError("expected conditional", toks[-1] if toks else start)
            pos += 1
            return toks[pos - 1]

        def or_expr() -> bool:
            v = and_expr()
            while (t := peek()) is not None and t.is_op("||"):
                take()
                rhs = and_expr()
                v = v or rhs
            return v

        def and_expr() -> bool:
            v = term()
            while (t := peek()) is not None and t.is_op("&&"):
                take()
                rhs = term()
                v = v and rhs
            return v

        def term() -> bool:
            t = peek()
            if t is not None and t.is_op("("):
                take()
                v = or_expr()
                if not take().is_op(")"):
                    raise PreprocessError("expected ')'", toks[pos - 1])
                return v
            if t is not None and t.is_op("!"):
                take()
                return not term()
            lhs = take()
            op = peek()
            if op is None or not op.is_op(*_CMP):
                # a bare number or @defined-like literal: true if non-zero
                if lhs.kind == "number" and isinstance(lhs.value, int):
                    return lhs.value != 0
                raise PreprocessError("expected comparison operator", op or lhs)
            take()
            rhs = take()
            return self._compare(lhs, op, rhs)

        v = or_expr()
        if pos != len(toks):
            raise PreprocessError("expected '%?' marker for conditional", toks[pos])
        return v

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
        if lhs.kind == "number" and rhs.kind == "number":
            return test(self._num(lhs) - self._num(rhs))
        if lhs.kind == "string" and rhs.kind == "string":
            a, b = str(lhs.value), str(rhs.value)
            return test((a > b) - (a < b))
        raise PreprocessError("expected 'arch', 'kernel_v', 'kernel_vr', 'systemtap_v', 'runtime', "
                              "'systemtap_privilege', 'guru_mode', 'CONFIG_...', or comparison between "
                              "strings or integers", lhs)

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
            raise PreprocessError("expected '%('", q[0] if q else start)
        q.popleft()
        body: list[Token] = []
        nest = 0
        while q:
            t = q.popleft()
            if t.kind == "eof":
                raise PreprocessError("incomplete macro definition - missing '%)'", t)
            if t.is_op("%("):
                nest += 1
            elif t.is_op("%)"):
                if nest == 0:
                    break
                nest -= 1
            body.append(t)
        self.macros[name_tok.text] = Macro(name_tok.text, params, body)

    def _expand(self, use: Token, q: deque[Token]) -> None:
        macro = self.macros[use.text[1:]]
        args: list[list[Token]] = []
        if macro.params or (q and q[0].is_op("(") and macro.params):
            if not q or not q[0].is_op("("):
                raise PreprocessError(f"expected '(' in invocation of macro '@{macro.name}' taking "
                                      f"{len(macro.params)} parameters", q[0] if q else use)
            q.popleft()
            cur: list[Token] = []
            nest = 0
            while True:
                if not q:
                    raise PreprocessError("expected ')'", use)
                t = q.popleft()
                if t.kind == "eof":
                    raise PreprocessError("expected ')'", t)
                if t.is_op("(", "[", "{"):
                    nest += 1
                elif t.is_op(")", "]", "}"):
                    if nest == 0 and t.is_op(")"):
                        args.append(cur)
                        break
                    nest -= 1
                elif t.is_op(",") and nest == 0:
                    args.append(cur)
                    cur = []
                    continue
                cur.append(t)
            if len(args) != len(macro.params):
                raise PreprocessError(f"invalid macro invocation: expected {len(macro.params)} "
                                      f"arguments, got {len(args)}", use)
        binding = {f"@{p}": a for p, a in zip(macro.params, args)}
        expanded: list[Token] = []
        for t in macro.body:
            if t.kind == "identifier" and t.text in binding:
                expanded.extend(binding[t.text])
            else:
                expanded.append(t)
        q.extendleft(reversed(expanded))

