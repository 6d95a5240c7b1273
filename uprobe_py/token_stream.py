"""The parser's footing: the token cursor, stap's "expected ..." failures, ParseError.

Shared by the expression parser (parser_expr.py) and the declaration/statement
parser (parser.py), so each can be read alone.
"""
from __future__ import annotations

from typing import Optional

from .lexer import Token


class ParseError(Exception):
    def __init__(self, msg: str, tok: Token, skip_some: bool = True, at_word: str = "saw") -> None:
        super().__init__(msg)
        self.msg = msg
        self.tok = tok
        self.at_word = at_word
        self.skip_some = skip_some    # recovery consumes the current token first


class TokenStream:
    toks: list[Token]
    pos: int

    # --- token stream ------------------------------------------------------
    @property
    def cur(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        i = min(self.pos + k, len(self.toks) - 1)
        return self.toks[i]

    def next(self) -> Token:
        t = self.toks[self.pos]
        if t.kind != "eof":
            self.pos += 1
        return t

    def fail(self, msg: str, tok: Optional[Token] = None) -> ParseError:
        tok = tok or self.cur
        if tok.error:
            # a lexer/preprocessor error carried in the stream surfaces where it is met
            return ParseError(tok.error, tok, at_word="at")
        return ParseError(msg, tok)

    def expect_op(self, op: str) -> Token:
        if not self.cur.is_op(op):
            raise self.fail(f"expected '{op}'")
        return self.next()

    def expect_kw(self, kw: str) -> Token:
        if not self.cur.is_kw(kw):
            raise self.fail(f"expected '{kw}'")
        return self.next()

    def expect_ident(self) -> Token:
        if self.cur.kind != "identifier":
            raise self.fail("expected identifier")
        return self.next()
