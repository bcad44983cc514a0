"""A TV remote for the browser tests: the four arrows, Enter and Backspace, and nothing else.

To type on the TV's on-screen keyboard it reads the keys' places from the page (data-row,
data-col, data-span), finds the shortest run of arrows from the focused key to the one it
wants, with the same moves the page makes, and presses Enter there.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

REMOTE_KEYS = frozenset({"ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", "Backspace"})
ARROWS = {"ArrowUp": (-1, 0), "ArrowDown": (1, 0), "ArrowLeft": (0, -1), "ArrowRight": (0, 1)}

READ_KEYS = """() => [...document.querySelectorAll("[data-osk] .key")].map(key => ({
    row: Number(key.dataset.row), col: Number(key.dataset.col), span: Number(key.dataset.span),
    action: key.dataset.action, char: key.dataset.char || "", symbol: key.dataset.symbol || "",
}))"""
FOCUSED_KEY = """() => {
    const key = document.activeElement.closest("[data-osk] .key");
    return key ? [Number(key.dataset.row), Number(key.dataset.col)] : null;
}"""
KEYBOARD_STATE = """() => {
    const osk = document.querySelector("[data-osk]");
    return [osk.dataset.page, osk.dataset.shift === "true"];
}"""


@dataclass(frozen=True, slots=True)
class Key:
    row: int
    col: int
    span: int
    action: str
    char: str
    symbol: str

    def face(self, page: str, shift: bool) -> str:
        """What this key types on that page, as the page shows it."""
        face = self.symbol if page == "symbols" else self.char
        return face.upper() if shift else face


class Layout:
    """The keys as the page placed them, and where each arrow leads from a key."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = keys

    def at(self, row: int, col: int) -> Key | None:
        for key in self.keys:
            if key.row == row and key.col <= col < key.col + key.span:
                return key
        return None

    def step(self, key: Key, arrow: str) -> Key | None:
        """Where the arrow goes, or None where it leaves the keys or meets an edge."""
        down, right = ARROWS[arrow]
        if right > 0:
            return self.at(key.row, key.col + key.span)
        return self.at(key.row + down, key.col + right)

    def path(self, start: Key, goal: Key) -> list[str]:
        """The fewest arrow presses from one key to another (breadth-first)."""
        came: dict[Key, tuple[Key, str] | None] = {start: None}
        todo = deque([start])
        while todo:
            key = todo.popleft()
            if key == goal:
                break
            for arrow in ARROWS:
                to = self.step(key, arrow)
                if to is not None and to not in came:
                    came[to] = (key, arrow)
                    todo.append(to)
        presses: list[str] = []
        step = came[goal]
        while step is not None:
            presses.append(step[1])
            step = came[step[0]]
        return presses[::-1]


class Remote:
    """Presses only a remote's keys on a page, and keeps count of them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses: list[str] = []

    def press(self, *keys: str) -> None:
        for key in keys:
            assert key in REMOTE_KEYS, f"{key} is not on a TV remote"
            self.presses.append(key)
            self.page.keyboard.press(key)

    def layout(self) -> Layout:
        keys: list[dict[str, Any]] = self.page.evaluate(READ_KEYS)
        assert keys, "no on-screen keyboard on this page"
        return Layout([Key(**key) for key in keys])

    def choose(self, action: str, face: str | None = None) -> None:
        """Move to the key that does `action` (and shows `face`) and press Enter on it."""
        layout = self.layout()
        page, shift = self.page.evaluate(KEYBOARD_STATE)
        goal = next(
            key
            for key in layout.keys
            if key.action == action and (face is None or key.face(page, shift) == face)
        )
        focused = self.page.evaluate(FOCUSED_KEY)
        assert focused, "the focus is not on the on-screen keyboard"
        start = layout.at(*focused)
        assert start is not None
        self.press(*layout.path(start, goal), "Enter")

    def type(self, text: str) -> None:
        """Type each character with the on-screen keyboard, turning pages and Shift as needed."""
        for character in text:
            if character == " ":
                self.choose("space")
            else:
                self._reach_page_with(character)
                self.choose("char", character)

    def _reach_page_with(self, character: str) -> None:
        keys = self.layout().keys

        def shows(page: str, shift: bool) -> bool:
            return any(key.action == "char" and key.face(page, shift) == character for key in keys)

        if shows(*self.page.evaluate(KEYBOARD_STATE)):
            return
        pages = (("letters", False), ("letters", True), ("symbols", False))
        wanted = next(state for state in pages if shows(*state))
        for _ in range(3):
            page, shift = self.page.evaluate(KEYBOARD_STATE)
            if page != wanted[0]:
                self.choose("symbols")
            elif shift != wanted[1]:
                self.choose("shift")
            else:
                return
        raise AssertionError(f"could not reach the keyboard page with {character!r}")


def to_email_and_password(page: Page) -> None:
    """The TV's sign-in offers the phone first: Enter on "Use email and password" (which has
    the focus) opens the email and password form."""
    choice = page.get_by_role("link", name="Use email and password")
    expect(choice).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Email", exact=True)).to_be_visible()
    # Typing may start only once the page's script has put the focus on the keys: a key pressed
    # before that is lost (CI saw "iewer-…@example.com" for "viewer-…").
    keys = page.get_by_role("region", name="On-screen keyboard")
    expect(keys.locator(":focus")).to_have_count(1)
