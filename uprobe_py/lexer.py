"""Script text → tokens, as stap's lexer cuts them.

Token kinds are stap's own words, because they appear in error messages:
`identifier`, `keyword`, `number`, `string`, `operator`, `embedded-code`, `junk`
and `eof`. Positional arguments (`$1`, `@1`, `$#`, `@#`) are substituted here, as
stap does, so they may appear anywhere, including preprocessor conditions.
The preprocessor (`%( %? %: %)`, `@define`) works on this token stream; see
preprocess.py.

String literals keep stap's escape rules: a backslash before one of the C escape
characters is an escape (decoded into `value`), before anything else it is
dropped. `text` keeps the raw spelling for dumps and messages.
"""
from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Diagnostic
from .source import Loc, Source

KEYWORDS = frozenset("""probe global private function if else for foreach in limit
return delete while break continue next string long try catch""".split())

# Longest first: the lexer takes the longest operator that matches.
OPERATORS = sorted("""<<< <<= >>= ... == != <= >= += -= *= /= %= &= ^= |= .= && || ++ --
-> << >> =~ !~ %{ %} %( %? %: %) ( ) [ ] { } , ; : . ? = < > + - * / % & | ^ ! ~ $ @ #""".split(),
                   key=len, reverse=True)

_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
                   "v": "\v", "\\": "\\", '"': '"', "'": "'", "?": "?"}


class LexError(Exception):
    pass


@dataclass(frozen=True, eq=False)
class Token:
    kind: str
    text: str
    loc: Loc
    value: object = None      # decoded string for strings, int for numbers
    # A token that came out of a macro or a positional argument remembers where it was used.
    chained: "Token | None" = None
    # A lexer/preprocessor error travelling in the stream: the parser reports it where it
    # meets this (junk) token, described as `shown_as` (the kind of the offending token).
    error: "str | None" = None
    shown_as: "str | None" = None

    def is_op(self, *ops: str) -> bool:
        return self.kind == "operator" and self.text in ops

    def is_kw(self, *kws: str) -> bool:
        return self.kind == "keyword" and self.text in kws

    def at(self, loc: Loc) -> "Token":
        return Token(self.kind, self.text, loc, self.value, self.chained)


def parse_number(text: str) -> int | None:
    """stap's integer literal: decimal, 0x hex or 0 octal; values up to 2**64-1 wrap."""
    try:
        if text.lower().startswith("0x"):
            v = int(text[2:], 16) if len(text) > 2 else None
        elif text.startswith("0") and len(text) > 1:
            v = int(text[1:], 8)
        else:
            v = int(text, 10)
    except ValueError:
        return None
    if v is None or v >= 1 << 64:
        return None
    return v - (1 << 64) if v >= 1 << 63 else v


def decode_string(raw: str) -> str:
    out = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and raw[j] in "01234567":
                j += 1
            out.append(chr(int(raw[i + 1:j], 8) & 0xFF))
            i = j
        elif nxt == "x":
            j = i + 2
            while j < n and raw[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(raw[i + 2:j] or "0", 16) & 0xFF))
            i = j
        else:
            # stap drops the backslash of an unknown escape
            out.append(nxt)
            i += 2
    return "".join(out)


class Lexer:
    def __init__(self, source: Source, args: list[str] | None = None) -> None:
        self.source = source
        self.text = source.text
        self.args = args or []
        self.pos = 0
        self.line = 1
        self.col = 1
        self.errors: list[Diagnostic] = []
        self.stopped = False

    def _loc(self) -> Loc:
        return Loc(self.source, self.line, self.col)

    def _advance(self, n: int) -> None:
        text = self.text
        for _ in range(n):
            if text[self.pos] == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
            self.pos += 1

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        while True:
            tok = self.next_token()
            if tok is None:
                continue
            if isinstance(tok, list):
                out.extend(tok)
                continue
            out.append(tok)
            if tok.kind == "eof":
                return out
            if self.stopped:
                out.append(Token("eof", "", self._loc()))
                return out

    def _error(self, msg: str, loc: Loc) -> None:
        self.errors.append(Diagnostic("parse error", msg, Token("junk", "", loc), at_word="at"))

    def next_token(self) -> "Token | list[Token] | None":
        text = self.text
        n = len(text)
        # whitespace and comments
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\f\v":
                self._advance(1)
            elif ch == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self._advance((n if end < 0 else end) - self.pos)
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self._advance(n - self.pos)   # stap: an unclosed comment runs to end of file
                else:
                    self._advance(end + 2 - self.pos)
            else:
                break
        loc = self._loc()
        if self.pos >= n:
            return Token("eof", "", loc)
        ch = text[self.pos]
        start = self.pos
        if ch.isascii() and (ch.isalpha() or ch == "_") or (
                ch in "$@" and start + 1 < n and text[start + 1].isascii()
                and (text[start + 1].isalnum() or text[start + 1] in "_$#")):
            j = start + 1
            if ch in "$@" and j < n and text[j] == "#":
                self._advance(2)
                count = len(self.args)
                if ch == "$":
                    return Token("number", str(count), loc, count)
                return Token("string", f'"{count}"', loc, str(count))
            more = "_$" if ch != "@" else "_"      # stap names take `$` (not `@`) after the start
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] in more):
                j += 1
            word = text[start:j]
            self._advance(j - start)
            if ch in "$@" and word[1:].isdigit():
                return self._positional(word, loc)
            if ch == "@":
                return Token("operator", word, loc)    # stap lexes @name as an operator
            kind = "keyword" if word in KEYWORDS else "identifier"
            return Token(kind, word, loc)
        if ch.isascii() and ch.isdigit():
            j = start
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[start:j]
            self._advance(j - start)
            return Token("number", word, loc, parse_number(word))
        if ch == '"':
            j = start + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                if text[j] == "\\":
                    j += 1
                j += 1
            if j >= n or text[j] == "\n":
                # stap reports this where the parser meets it, then lexes no further
                self._advance(n - start)
                self.stopped = True
                return Token("junk", "", loc, error="Could not find matching closing quote")
            raw = text[start + 1:j]
            self._advance(j + 1 - start)
            # a C string: an embedded NUL ends it, as in stap's generated code
            return Token("string", text[start:j + 1], loc, decode_string(raw).split("\0", 1)[0])
        if text.startswith("%{", start):
            end = text.find("%}", start + 2)
            if end < 0:
                self._advance(n - start)
                self.stopped = True
                return Token("junk", "", loc, error="Could not find matching '%}' to close embedded function block")
            body = text[start + 2:end]
            self._advance(end + 2 - start)
            return Token("embedded-code", body, loc, body)
        for op in OPERATORS:
            if text.startswith(op, start):
                self._advance(len(op))
                return Token("operator", op, loc)
        self._advance(1)
        # stap takes any other printable ASCII character as a (meaningless) operator
        return Token("operator" if ch.isascii() and ch.isprintable() else "junk", ch, loc)

    def _positional(self, word: str, loc: Loc) -> "Token | list[Token]":
        idx = int(word[1:])
        if idx < 1 or idx > len(self.args):
            # Reported only if it survives preprocessing (it may sit in an unselected branch).
            return Token("junk", "", loc, error=f"command line argument out of range [1-{len(self.args)}]")
        arg = self.args[idx - 1]
        if word[0] == "@":
            return Token("string", '"' + arg + '"', loc, arg)
        # $N: the argument's text, lexed as script tokens, located at the use site.
        sub = Lexer(Source(f"<argument {idx}>", arg))
        toks = [t for t in sub.tokens() if t.kind != "eof"]
        self.errors.extend(sub.errors)
        return [Token(t.kind, t.text, loc, t.value, None) for t in toks]


def tokenize(source: Source, args: list[str] | None = None) -> tuple[list[Token], list[Diagnostic]]:
    lx = Lexer(source, args)
    toks = lx.tokens()
    return toks, lx.errors
