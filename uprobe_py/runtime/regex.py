"""The `=~` / `!~` operators: POSIX extended regular expressions on Python's `re`.

Patterns are translated once at start-up (bracket classes like `[[:digit:]]`,
ERE's literal `{` where it does not start a bound, `\\x` as a literal x, `$` as the
very end of the string); a match is an unanchored
search, and a successful `=~` records its groups in the context for
`matched(n)`, `matched_str()` and `ngroups()`. Matching uses the `regex`
package in its POSIX mode, which gives stap's leftmost-longest matches (Python's
`re` is leftmost-first: `x|xyz` would match only `x`).
"""
from __future__ import annotations

import re
from typing import Any

import regex

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
    "cntrl": r"\x00-\x1f\x7f", "print": r"\x20-\x7e", "graph": r"\x21-\x7e", "word": "a-zA-Z0-9_",
}


class RegexError(ValueError):
    pass


def translate(pattern: str) -> str:
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            # POSIX ERE: a backslash makes the next character literal (`\d` is "d", no back-references)
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "$":
            out.append(r"\Z")          # end of string only (Python's $ also matches before a final newline)
            i += 1
            continue
        if ch == "[":
            j = i + 1
            body = []
            if j < n and pattern[j] == "^":
                body.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                body.append(r"\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j)
                    if end < 0:
                        raise RegexError("unterminated character class")
                    name = pattern[j + 2:end]
                    if name not in _CLASSES:
                        raise RegexError(f"regex compilation error: unknown character class '{name}'")
                    body.append(_CLASSES[name])
                    j = end + 2
                    continue
                c = pattern[j]
                body.append("\\" + c if c in "\\[" else c)
                j += 1
            if j >= n:
                raise RegexError("unmatched [")
            out.append("[" + "".join(body) + "]")
            i = j + 1
            continue
        if ch == "{" and not re.match(r"\{\d+(,\d*)?\}", pattern[i:]):
            out.append(r"\{")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def compile_regex(pattern: str) -> Any:
    try:
        return regex.compile(translate(pattern), regex.POSIX | regex.DOTALL)
    except regex.error as e:
        # stap's wording; the detail after it is the regex engine's own
        detail = str(e).split(" at position")[0]
        raise RegexError(f"regex compilation error (at position {e.pos or 0}): {detail}") from None


def rematch(c: Any, rx: Any, s: str) -> bool:
    m = rx.search(s)
    c.extra["last_match"] = m
    return m is not None
