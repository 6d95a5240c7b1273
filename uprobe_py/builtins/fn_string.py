"""String built-ins: strlen, substr, stringat, isinstr, strpos, str_replace,
strtol, isdigit, tokenize, text_str, text_strn, string_quoted.

Input: stap strings (Python `str` whose characters are bytes, latin-1) and
longs (Python ints in signed 64-bit range). Output: the same kinds of values.
Results longer than MAXSTRINGLEN-1 bytes are truncated by the caller, not here.

Semantics follow the C bodies of SystemTap 4.8's `tapset/string.stp`,
`tapset/tokenize.stp` and `runtime/stp_string.c` (`_stp_text_str`), including
their edge cases: `substr` with a negative or wrapping length, `strtol` as the
kernel's `simple_strtol` (no leading blanks, wrap on overflow), and the UTF-8
aware escaping and `"..."` truncation of `text_str`/`string_quoted`.

Not here: regular expressions (`=~`, `matched`) and printf-style formatting,
which are operators handled by the compiler.
"""
from __future__ import annotations

from typing import Optional

from uprobe_py.builtins.registry import LONG, STRING, builtin
from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from uprobe_py.runtime.values import MASK64, wrap

GROUP = "A collection of standard string functions"


@builtin("strlen", LONG, (STRING,), group=GROUP)
def strlen(s: str) -> int:
    return len(s)


@builtin("substr", STRING, (STRING, LONG, LONG), group=GROUP)
def substr(s: str, start: int, length: int) -> str:
    # string.stp: strlcpy(ret, str + start, clamp(length + 1, 0, MAXSTRINGLEN)),
    # only when 0 <= start < strlen(str). length + 1 wraps like C int64.
    if 0 <= start < len(s):
        n = wrap(length + 1)
        if n > 1:
            return s[start:start + n - 1]
    return ""


@builtin("stringat", LONG, (STRING, LONG), group=GROUP)
def stringat(s: str, pos: int) -> int:
    if 0 <= pos < len(s):
        # char is unsigned on Linux >= 6.2 (-funsigned-char), so bytes >= 0x80
        # come back as 128..255.
        return ord(s[pos])
    raise StapRuntimeError("Position out of bounds")


@builtin("isinstr", LONG, (STRING, STRING), group=GROUP)
def isinstr(s1: str, s2: str) -> int:
    return 1 if s2 in s1 else 0


@builtin("strpos", LONG, (STRING, STRING), group=GROUP)
def strpos(s1: str, s2: str) -> int:
    return s1.find(s2)


@builtin("str_replace", STRING, (STRING, STRING, STRING), group=GROUP)
def str_replace(prnt_str: str, srch_str: str, rplc_str: str) -> str:
    if not srch_str:
        return prnt_str
    return prnt_str.replace(srch_str, rplc_str)


@builtin("strtol", LONG, (STRING, LONG), group=GROUP)
def strtol(s: str, base: int) -> int:
    return _simple_strtol(s, base)


def _simple_strtol(s: str, base: int) -> int:
    """The kernel's simple_strtol(): one leading '-', radix prefix fix-up for
    base 0 and 16, hex-style digit parsing until the first invalid character,
    silent wrap-around modulo 2**64. Leading blanks are not skipped."""
    if s[:1] == "-":
        return wrap(-_simple_strtoull(s[1:], base))
    return wrap(_simple_strtoull(s, base))


def _simple_strtoull(s: str, base: int) -> int:
    base &= 0xFFFFFFFF          # the kernel takes `unsigned int base`
    i = 0
    if base == 0:
        if s[:1] == "0":
            if s[1:2] in ("x", "X") and s[2:3] != "" and s[2:3] in _HEXDIGITS:
                base = 16
            else:
                base = 8
        else:
            base = 10
    if base == 16 and s[:1] == "0" and s[1:2] in ("x", "X"):
        i = 2
    res = 0
    n = len(s)
    while i < n:
        c = ord(s[i])
        if 48 <= c <= 57:
            val = c - 48
        else:
            lc = c | 0x20
            if 97 <= lc <= 102:
                val = lc - 87
            else:
                break
        if val >= base:
            break
        res = (res * base + val) & MASK64
        i += 1
    return res


_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


@builtin("isdigit", LONG, (STRING,), group=GROUP)
def isdigit(s: str) -> int:
    return 1 if s[:1] != "" and "0" <= s[0] <= "9" else 0


# --- tokenize -------------------------------------------------------------
# stap keeps the tokenizer state (a copy of the input and a cursor) in the
# per-CPU probe context; here it lives in ctx.extra["tokenize"] as a
# _TokState (buffer, cursor), the cursor None once strsep() ran off the end.

_TOK_KEY = "tokenize"


class _TokState:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: str) -> None:
        self.buf = buf
        self.pos: int | None = 0


def tokenize_impl(ctx: Context, input: str, delim: str) -> str:
    """tokenize(input, delim); also used by env_var()."""
    extra = ctx.extra
    state: _TokState | None
    if input:
        state = extra[_TOK_KEY] = _TokState(input)
    else:
        state = extra.get(_TOK_KEY)
        if state is None:
            return ""
    buf, pos = state.buf, state.pos
    # do { token = strsep(&cursor, delim); } while (token && !token[0]);
    while pos is not None:
        end = _find_any(buf, delim, pos)
        if end < 0:
            token = buf[pos:]
            pos = None
        else:
            token = buf[pos:end]
            pos = end + 1
        if token:
            state.pos = pos
            return token
    state.pos = None
    return ""


@builtin("tokenize", STRING, (STRING, STRING), needs_ctx=True, group=GROUP)
def tokenize(ctx: Context, input: str, delim: str) -> str:
    return tokenize_impl(ctx, input, delim)


@builtin("tokenize", STRING, (STRING,), needs_ctx=True, group=GROUP)
def tokenize_next(ctx: Context, delim: str) -> str:
    return tokenize_impl(ctx, "", delim)


def _find_any(buf: str, chars: str, start: int) -> int:
    """Index of the first character of buf[start:] that is in chars, or -1."""
    if len(chars) == 1:
        return buf.find(chars, start)
    best = -1
    for ch in chars:
        i = buf.find(ch, start)
        if i >= 0 and (best < 0 or i < best):
            best = i
    return best


# --- text_str / text_strn / string_quoted ----------------------------------

# Two-character escapes of _stp_text_str; every other non-printable byte
# (and every byte >= 0x80 that does not start a valid UTF-8 sequence) becomes
# a three-digit octal escape.
_SHORT_ESC = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t",
              11: "\\v", 34: '\\"', 92: "\\\\"}


def _decode_utf8(s: str, i: int, size: int) -> tuple[int, int]:
    """(codepoint, bytes consumed) at s[i], as runtime/stp_string.c decodes it.
    Past the end of s the C string holds its NUL terminator."""
    n_s = len(s)
    b = ord(s[i]) if i < n_s else 0
    size -= 1
    if (b & 0xE0) == 0xC0 and size >= 1:
        n, c = 2, b & 0x1F
    elif (b & 0xF0) == 0xE0 and size >= 2:
        n, c = 3, b & 0x0F
    elif (b & 0xF8) == 0xF0 and size >= 3:
        n, c = 4, b & 0x07
    else:
        return b, 1
    for k in range(1, n):
        b2 = ord(s[i + k]) if i + k < n_s else 0
        if (b2 & 0xC0) != 0x80:
            return b, 1
        c = (c << 6) | (b2 & 0x3F)
    if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF:
        return b, 1
    if c < 0x80 or (n == 3 and c < 0x800) or (n == 4 and c < 0x10000):
        return b, 1
    return c, n


def text_str_impl(s: str, inlen: int, outlen: int, quoted: bool, maxstringlen: int) -> str:
    """_stp_text_str() for an in-memory (never faulting) input string."""
    got = text_str_walk(s, inlen, outlen, quoted, maxstringlen)
    assert got is not None
    return got


def text_str_walk(s: str, inlen: int, outlen: int, quoted: bool, maxstringlen: int,
                  buffer: bool = False) -> Optional[str]:
    """The escape-and-truncate walk of _stp_text_str() over s (bytes as latin-1).
    A string ends at its first NUL; with `buffer` (user_buffer_quoted) a NUL is escaped
    like any other byte and the end of s is where the readable memory stops: the walk
    reaching it faults, and the answer is None."""
    if inlen <= 0 or inlen > maxstringlen - 1:
        inlen = maxstringlen - 1
    if outlen <= 0 or outlen > maxstringlen - 1:
        outlen = maxstringlen - 1
    out: list[str] = []
    outpos = 0
    if quoted:
        outlen = max(outlen, 5) - 2
        out.append('"')
        outpos = 1
    esc = -1          # output offset of the first escape that truncation could split
    esc_len = 0
    c = 0
    i = 0
    n_s = len(s)
    while inlen > 0:
        if buffer and i >= n_s:
            return None
        # fast path: plain printable ASCII
        if i < n_s:
            c = ord(s[i])
            if 32 <= c < 127 and c != 34 and c != 92:
                if outlen <= 0:
                    break
                i += 1
                inlen -= 1
                out.append(s[i - 1])
                outpos += 1
                outlen -= 1
                continue
        c, n = _decode_utf8(s, i, inlen)
        if (c == 0 and not buffer) or outlen <= 0:
            break
        i += n
        inlen -= n
        if n > 1:
            num = 6 if c <= 0xFFFF else 10
            piece = ("\\u%04X" % c) if num == 6 else ("\\U%08X" % c)
        elif 32 <= c < 127 and c != 34 and c != 92:
            num = 1
            piece = chr(c)
        else:
            piece = _SHORT_ESC.get(c) or "\\%03o" % c
            num = len(piece)
        if num > 1:
            if esc < 0 and outlen - 3 < num:
                esc, esc_len = outpos, num
            if outlen < num:
                break
        out.append(piece)
        outpos += num
        outlen -= num
    if quoted:
        if c and inlen > 0:
            text = "".join(out)
            truncptr = outpos - 3 + outlen
            if esc >= 0 and esc < truncptr < esc + esc_len:
                cut = esc
            else:
                cut = truncptr
            return text[:cut] + '"...'
        out.append('"')
    return "".join(out)


@builtin("text_str", STRING, (STRING,), needs_ctx=True, group=GROUP)
def text_str(ctx: Context, input: str) -> str:
    return text_str_impl(input, 0, 0, False, ctx.session.maxstringlen)


@builtin("text_strn", STRING, (STRING, LONG, LONG), needs_ctx=True, group=GROUP)
def text_strn(ctx: Context, input: str, len_: int, quoted: int) -> str:
    maxlen = ctx.session.maxstringlen
    outlen = min(max(len_, 0), maxlen)
    # `quoted` is passed to an int parameter: only the low 32 bits count.
    return text_str_impl(input, 0, outlen, (quoted & 0xFFFFFFFF) != 0, maxlen)


@builtin("string_quoted", STRING, (STRING,), needs_ctx=True, group=GROUP)
def string_quoted(ctx: Context, s: str) -> str:
    maxlen = ctx.session.maxstringlen
    return text_str_impl(s, maxlen, maxlen, True, maxlen)
