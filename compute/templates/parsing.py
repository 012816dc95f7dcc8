"""Parse learners' typed answers: numbers, fractions, percentages, tuples, sets and choices.

Input is first normalized: NFKC folds full-width digits and punctuation (``１２``, ``，``,
``（）``, ``．``) to ASCII; ``。``, ``、``, ``−`` and superscript exponents are mapped by hand;
surrounding whitespace and one trailing unit-less period are dropped.

Numbers: integers, decimals, scientific notation (``1e-3``, ``1.5E+4``, ``1.5×10^-3``,
``1.5*10**-3``, ``1.5·10⁻³``), fractions ``3/4``, thousands separators (``61,100,840`` when a
single number is expected) and percentages ``72%``. A percentage is accepted only where the answer
is a ratio or a probability, and it is divided by 100 (``72%`` is 0.72); elsewhere it is a format
error, because "72%" of a parameter count has no meaning.

Tuples: ``(20, 33, 24, 49)``, ``[20,33,24,49]``, ``20x33x24x49``, ``20×33×24×49``,
``20 33 24 49``, ``torch.Size([20, 33, 24, 49])``. Sets: ``{0, 2, 5}``, ``0, 2, 5``, ``0 2 5``.

Every failure raises :class:`ParseError`, whose ``message`` is bilingual.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata

from compute.templates.base import Bilingual

__all__ = [
    "MAX_LENGTH",
    "ParseError",
    "normalize",
    "parse_choice",
    "parse_number",
    "parse_set",
    "parse_tuple",
]

Number = int | float

#: Longer responses are rejected before any pattern matching.
MAX_LENGTH = 200


class ParseError(ValueError):
    """Raised when a response cannot be read; ``message`` says why in both languages."""

    def __init__(self, message: Bilingual) -> None:
        super().__init__(message.en)
        self.message = message


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SUPERSCRIPT_RUN = re.compile(r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_EXTRA = str.maketrans({"。": ".", "、": ",", "−": "-", "–": "-", "÷": "/", "∶": ":", "·": "*"})

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_SCALAR = re.compile(
    rf"(?P<num>{_NUMBER})"
    r"(?:\s*[*x×]\s*10\s*(?:\^|\*\*)\s*\(?\s*(?P<exp>[+-]?\d+)\s*\)?)?"
    rf"(?:\s*/\s*(?P<den>{_NUMBER}))?"
    r"\s*(?P<pct>%)?"
)
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:([,_])\d{3})(?:\1\d{3})*(?:\.\d+)?")
_SEPARATOR = re.compile(r"\s*[,;×xX*]\s*|\s+")
_PREFIX = re.compile(r"^(?:torch\.size|size|shape|np\.array|array|tuple|set)\s*(?=[(\[{])", re.I)
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_SIMPLE_TUPLE_CHARS = frozenset("0123456789, ()")
_BRACKET_CHARS = re.compile(r"[()\[\]{}]")


def _msg(zh: str, en: str) -> ParseError:
    return ParseError(Bilingual(zh=zh, en=en))


def normalize(text: str) -> str:
    """Return ``text`` folded to ASCII punctuation, stripped, without a trailing period."""
    if not text.isascii():
        text = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)
        text = unicodedata.normalize("NFKC", text).translate(_EXTRA)
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise _msg(
            f"答案太长(最多 {MAX_LENGTH} 个字符)。",
            f"The answer is too long (at most {MAX_LENGTH} characters).",
        )
    if len(text) > 1 and text.endswith(".") and not text.endswith(".."):
        # A sentence-final period ("12." or "(3, 4).") never changes the value.
        text = text[:-1].rstrip()
    return text


def _number(token: str, *, allow_percent: bool, thousands: bool) -> Number:
    if token.isdigit() and token.isascii():
        return int(token)  # the common case, without the regular expressions
    if thousands and _THOUSANDS.fullmatch(token):
        token = token.replace(",", "").replace("_", "")
    m = _SCALAR.fullmatch(token)
    if m is None:
        raise _msg(f"无法识别为数字:「{token}」。", f"Cannot read '{token}' as a number.")
    num, exp, den, pct = m.group("num", "exp", "den", "pct")
    value: Number
    if exp is None and den is None and not pct and "." not in num and "e" not in num.lower():
        value = int(num)
    else:
        value = float(num)
    if exp is not None:
        try:
            value = float(num) * 10.0 ** int(exp)
        except OverflowError:
            value = math.inf
    if den is not None:
        d = float(den)
        if d == 0:
            raise _msg("分母不能为 0。", "The denominator cannot be 0.")
        value = value / d
    if not math.isfinite(value):
        raise _msg("这个数太大了。", "That number is too large.")
    if pct:
        if not allow_percent:
            raise _msg(
                "此题的答案不是比例,请不要使用百分号,直接输入数值。",
                "This answer is not a ratio: enter the number without a percent sign.",
            )
        value = value / 100.0
    return value


def parse_number(text: str, *, allow_percent: bool = False) -> Number:
    """Return the single number in ``text`` (an ``int`` for an integer literal, else ``float``)."""
    s = normalize(text)
    if not s:
        raise _msg("请输入答案。", "Please enter an answer.")
    try:
        return _number(s, allow_percent=allow_percent, thousands=True)
    except ParseError:
        parts = _split(s)
        if len(parts) > 1 and all(p for p in parts):
            raise _msg(
                f"这里只需要一个数,你输入了 {len(parts)} 个。",
                f"Enter a single number here; you entered {len(parts)}.",
            ) from None
        raise


def _strip_brackets(s: str) -> str:
    if s[:1].isalpha():
        s = _PREFIX.sub("", s)
    while len(s) >= 2 and s[0] in _BRACKETS and s[-1] == _BRACKETS[s[0]]:
        s = s[1:-1].strip()
    return s


def _split(s: str) -> list[str]:
    s = s.strip()
    if not s:
        return []
    return _SEPARATOR.split(s)


def _numbers(text: str) -> list[Number]:
    s = normalize(text)
    if not s:
        raise _msg("请输入答案。", "Please enter an answer.")
    inner = _strip_brackets(s)
    if _BRACKET_CHARS.search(inner):
        raise _msg("括号不匹配或有多余的括号。", "The brackets do not match.")
    parts = _split(inner)
    if not parts or any(not p for p in parts):
        raise _msg(
            "格式不对:数字之间请用逗号、空格或 × 分隔,不要留空项。",
            "Cannot read the list: separate the numbers by commas, spaces or ×, with no empty "
            "entries.",
        )
    return [_number(p, allow_percent=False, thousands=False) for p in parts]


def parse_tuple(text: str, arity: int) -> tuple[Number, ...]:
    """Return the ``arity`` numbers of a tuple such as ``(20, 33, 24, 49)`` or ``20x33x24x49``."""
    values: tuple[Number, ...] | None = None
    # The canonical "(20, 33, 24, 49)" skips the general machinery: only digits, commas, spaces
    # and the outer parentheses, each entry a plain integer (int() allows the spaces around it).
    if (
        text[:1] == "("
        and text[-1:] == ")"
        and len(text) <= MAX_LENGTH
        and _SIMPLE_TUPLE_CHARS.issuperset(text)
    ):
        # "(1 2, 3)", "(1,,2)", "((1, 2))" fail here: the general parser explains them.
        with contextlib.suppress(ValueError):
            values = tuple(map(int, text[1:-1].split(",")))
    if values is None:
        values = tuple(_numbers(text))
    if len(values) != arity:
        raise _msg(
            f"需要 {arity} 个数,你输入了 {len(values)} 个。",
            f"Expected {arity} numbers, got {len(values)}.",
        )
    return values


def parse_set(text: str) -> frozenset[Number]:
    """Return the set of numbers in ``text`` such as ``{0, 2, 5}``; ``{}`` or ``∅`` is empty."""
    s = normalize(text)
    if s in ("{}", "∅", "set()"):
        return frozenset()
    return frozenset(_numbers(s))


def parse_choice(text: str, n_options: int) -> int:
    """Return the 0-based option index for a label ``A``, ``B``, ... or a 1-based number."""
    s = normalize(text).strip("()[] ").upper()
    if len(s) == 1 and "A" <= s <= "Z":
        i = ord(s) - ord("A")
    elif s.isdigit():
        i = int(s) - 1
    else:
        raise _msg("请输入选项字母(如 A)。", "Enter the letter of an option (e.g. A).")
    if not 0 <= i < n_options:
        last = chr(ord("A") + n_options - 1)
        raise _msg(f"选项只有 A 到 {last}。", f"The options are A to {last}.")
    return i
