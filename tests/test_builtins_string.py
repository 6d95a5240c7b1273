"""String built-ins (uprobe_py/builtins/fn_string.py).

Expected values come from the man pages (`man 3stap function::NAME`) or, where
a page is silent, from the C bodies in SystemTap 4.8's tapset/string.stp,
tapset/tokenize.stp and runtime/stp_string.c (_stp_text_str), as cited.
"""
from __future__ import annotations


import pytest

from uprobe_py.runtime.context import Context
from uprobe_py.runtime.errors import StapRuntimeError
from builtin_support import StubSession, fn


@pytest.fixture
def ctx() -> Context:
    return Context(StubSession())


def test_strlen_counts_bytes() -> None:
    # man strlen: "the length of the string"; strings are bytes (latin-1 chars)
    assert fn("strlen", 1)("") == 0
    assert fn("strlen", 1)("abc") == 3
    assert fn("strlen", 1)("\xc3\xa9") == 2


@pytest.mark.parametrize("s,start,length,want", [
    ("hello", 1, 3, "ell"),          # man substr: first character is 0
    ("hello", 2, 100, "llo"),        # "or smaller if ... less than start + length"
    ("hello", 0, 0, ""),
    ("hello", -1, 2, ""),            # string.stp: start must be >= 0
    ("hello", 5, 1, ""),             # ... and < strlen(str)
    ("hello", 0, -5, ""),            # clamp(length + 1, 0, MAXSTRINGLEN) = 0
    ("hello", 0, (1 << 63) - 1, ""),  # length + 1 wraps to INT64_MIN -> 0
])
def test_substr(s: str, start: int, length: int, want: str) -> None:
    assert fn("substr", 3)(s, start, length) == want


def test_stringat() -> None:
    # man stringat: the character at pos (first character is 0)
    assert fn("stringat", 2)("abc", 1) == ord("b")
    # char is unsigned on Linux >= 6.2
    assert fn("stringat", 2)("\xff", 0) == 255
    # man stringat: "Reports an error if pos is out of bounds"; string.stp message
    for pos in (3, -1):
        with pytest.raises(StapRuntimeError) as e:
            fn("stringat", 2)("abc", pos)
        assert e.value.msg == "Position out of bounds"


def test_isinstr_and_strpos() -> None:
    # man isinstr: 1 if s1 contains s2, otherwise zero
    assert fn("isinstr", 2)("foobar", "oba") == 1
    assert fn("isinstr", 2)("foobar", "baz") == 0
    assert fn("isinstr", 2)("foobar", "") == 1          # strstr(s, "") != NULL
    # man strpos: 0 when s2 is a prefix, -1 when not a substring
    assert fn("strpos", 2)("foobar", "foo") == 0
    assert fn("strpos", 2)("foobar", "bar") == 3
    assert fn("strpos", 2)("foobar", "x") == -1


def test_str_replace() -> None:
    f = fn("str_replace", 3)
    assert f("a-b-c", "-", "+") == "a+b+c"
    assert f("aaaa", "aa", "b") == "bb"        # strstr left to right, no overlap
    assert f("abc", "", "x") == "abc"          # string.stp: empty search string
    assert f("abc", "abc", "") == ""


@pytest.mark.parametrize("s,base,want", [
    ("123", 10, 123),
    ("-123", 10, -123),
    ("0x1f", 16, 31),        # man strtol: 16 for hex
    ("0x1f", 0, 31),         # kernel _parse_integer_fixup_radix
    ("017", 8, 15),          # 8 for octal
    ("017", 0, 15),
    ("1010", 2, 10),         # 2 for binary
    ("12abc", 10, 12),       # stops at the first invalid digit
    ("  12", 10, 0),         # simple_strtol skips no blanks
    ("ff", 16, 255),
    ("z", 36, 0),            # the kernel parser knows 0-9 and a-f only
    ("0x", 16, 0),
    ("18446744073709551615", 10, -1),   # wraps modulo 2**64
    ("", 10, 0),
])
def test_strtol(s: str, base: int, want: int) -> None:
    assert fn("strtol", 2)(s, base) == want


def test_isdigit() -> None:
    # man isdigit: non-zero if the first character is 0-9
    assert fn("isdigit", 1)("7up") == 1
    assert fn("isdigit", 1)("x7") == 0
    assert fn("isdigit", 1)("") == 0


def test_tokenize_keeps_state(ctx: Context) -> None:
    tok2 = fn("tokenize", 2)
    tok1 = fn("tokenize", 1)
    # man tokenize: empty input continues the previous string; empty tokens
    # are skipped ("next non-empty token"); "" when no more tokens.
    assert tok2(ctx, "", ",") == ""            # nothing tokenized yet
    assert tok2(ctx, ",a,,b;c", ",") == "a"
    assert tok2(ctx, "", ",") == "b;c"
    assert tok2(ctx, "", ",") == ""
    assert tok2(ctx, "", ",") == ""
    assert tok2(ctx, "x y\tz", " \t") == "x"
    assert tok1(ctx, " \t") == "y"
    assert tok1(ctx, " \t") == "z"
    assert tok1(ctx, " \t") == ""
    # "If no delimiter is found, the entire remaining input string is returned"
    assert tok2(ctx, "k=v=w", "=") == "k"
    assert tok2(ctx, "", "") == "v=w"


def test_text_str_escapes(ctx: Context) -> None:
    f = fn("text_str", 1)
    assert f(ctx, "plain text") == "plain text"
    # stp_string.c: \a\b\f\n\r\t\v \" \\ as two-character escapes
    assert f(ctx, "\a\b\f\n\r\t\v\"\\") == '\\a\\b\\f\\n\\r\\t\\v\\"\\\\'
    # other non-printables and invalid UTF-8 bytes as \ooo
    assert f(ctx, "\x01\x7f\xff") == "\\001\\177\\377"
    # valid UTF-8 as \uXXXX / \UXXXXXXXX, upper-case hex (to_hex_digit)
    assert f(ctx, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == "\\u00E9\\u20AC\\U0001F600"
    # overlong encodings are rejected and shown byte by byte
    assert f(ctx, "\xc0\x80") == "\\300\\200"
    # truncated sequence at the end of the string
    assert f(ctx, "a\xc3") == "a\\303"


def test_text_str_output_limit(ctx: Context) -> None:
    # outlen defaults to MAXSTRINGLEN-1; an escape that does not fit is dropped whole
    assert fn("text_str", 1)(ctx, "a" * 126 + "\n") == "a" * 126


def test_text_strn(ctx: Context) -> None:
    f = fn("text_strn", 3)
    assert f(ctx, "hello", 3, 0) == "hel"
    assert f(ctx, "hello", 0, 0) == "hello"               # man: 0 implies MAXSTRINGLEN
    assert f(ctx, "a\nb", 2, 0) == "a"                     # "\n" needs 2 bytes
    assert f(ctx, "hi", 0, 1) == '"hi"'
    # man text_strn: when truncated "..." follows the second quote; the total
    # is len bytes (outlen = max(len,5)-2 inside the quotes)
    assert f(ctx, "hello world", 8, 1) == '"hel"...'
    assert f(ctx, "hello world", 5, 1) == '""...'
    # truncation never splits an escape sequence (esc/esc_len in _stp_text_str)
    assert f(ctx, "ab\tcdef", 8, 1) == '"ab"...'
    # quoted is an int parameter: only the low 32 bits count
    assert f(ctx, "hi", 0, 1 << 32) == "hi"


def test_string_quoted(ctx: Context) -> None:
    f = fn("string_quoted", 1)
    # man string_quoted: surrounded by double quotes, non-printables escaped
    assert f(ctx, 'say "hi"\n') == '"say \\"hi\\"\\n"'
    assert f(ctx, "") == '""'
    # 125 bytes fit between the quotes of a MAXSTRINGLEN-1 (127) result
    assert f(ctx, "a" * 125) == '"' + "a" * 125 + '"'
    assert f(ctx, "a" * 126) == '"' + "a" * 122 + '"...'
    assert len(f(ctx, "a" * 127)) == 127


def test_string_quoted_follows_maxstringlen() -> None:
    small = Context(StubSession(maxstringlen=16))
    assert fn("string_quoted", 1)(small, "abcdefghijklmnop") == '"abcdefghij"...'
