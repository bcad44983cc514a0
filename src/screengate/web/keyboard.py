"""The TV's on-screen keyboard: its keys in rows and columns, where a remote's arrows find them.

Two pages share one grid: letters (Shift for capitals) and symbols. Between them they hold
every printable ASCII character, so any email address or password can be typed with the
arrows and Enter alone.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMNS = 10
LETTERS = ("abcdefghij", "klmnopqrst", "uvwxyz@._-", "1234567890")
SYMBOLS = ("!\"#$%&'()*", "/:;<=>?[\\]", "^`{|}~,@._", "1234567890")

# What a screen reader says for a key whose face is punctuation.
SPOKEN = {
    "!": "exclamation mark",
    '"': "quotation mark",
    "#": "number sign",
    "$": "dollar sign",
    "%": "percent sign",
    "&": "ampersand",
    "'": "apostrophe",
    "(": "left parenthesis",
    ")": "right parenthesis",
    "*": "asterisk",
    "+": "plus sign",
    ",": "comma",
    "-": "hyphen",
    ".": "dot",
    "/": "slash",
    ":": "colon",
    ";": "semicolon",
    "<": "less-than sign",
    "=": "equals sign",
    ">": "greater-than sign",
    "?": "question mark",
    "@": "at sign",
    "[": "left square bracket",
    "\\": "backslash",
    "]": "right square bracket",
    "^": "caret",
    "_": "underscore",
    "`": "grave accent",
    "{": "left curly bracket",
    "|": "vertical bar",
    "}": "right curly bracket",
    "~": "tilde",
    ".com": "dot com",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One key: where it sits (it may span columns), what it does, and what it shows."""

    row: int
    col: int
    span: int
    # "char" types `char` (or `symbol` on the symbols page); the others act on the field.
    action: str
    label: str
    char: str = ""
    symbol: str = ""

    @property
    def name(self) -> str:
        """The accessible name, where the face alone would not say it."""
        return SPOKEN.get(self.char, "")

    @property
    def symbol_name(self) -> str:
        return SPOKEN.get(self.symbol, "")


def _character_rows() -> list[list[Key]]:
    return [
        [
            Key(row, col, 1, "char", char, char=char, symbol=symbol)
            for col, (char, symbol) in enumerate(zip(letters, symbols, strict=True))
        ]
        for row, (letters, symbols) in enumerate(zip(LETTERS, SYMBOLS, strict=True))
    ]


def _control_rows(first: int) -> list[list[Key]]:
    second = first + 1
    return [
        [
            Key(first, 0, 2, "shift", "Shift"),
            Key(first, 2, 2, "symbols", "#+="),
            Key(first, 4, 1, "char", "+", char="+", symbol="+"),
            Key(first, 5, 2, "space", "Space"),
            Key(first, 7, 3, "delete", "Delete"),
        ],
        [
            Key(second, 0, 3, "text", "@gmail.com", char="@gmail.com"),
            Key(second, 3, 2, "text", ".com", char=".com"),
            Key(second, 5, 2, "show", "Show"),
            Key(second, 7, 3, "next", "Next"),
        ],
    ]


def rows() -> list[list[Key]]:
    """The keyboard, top row first; every row covers all COLUMNS columns."""
    characters = _character_rows()
    return [*characters, *_control_rows(len(characters))]
