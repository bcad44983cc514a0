"""What can be played: titles with maturity ratings; kids profiles see kids titles."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from screengate.domain.errors import NotForKids, TitleNotFound


class Maturity(IntEnum):
    ALL = 0
    SEVEN = 7
    TWELVE = 12
    SIXTEEN = 16
    EIGHTEEN = 18


# Kids profiles show titles rated up to 12, as streaming services do by default.
KIDS_MAX = Maturity.TWELVE


@dataclass(frozen=True, slots=True)
class Title:
    id: str
    name: str
    maturity: Maturity
    year: int
    genre: str
    minutes: int


class Catalogue:
    def __init__(self, titles: Iterable[Title]) -> None:
        self._titles = {t.id: t for t in titles}

    def __iter__(self) -> Iterator[Title]:
        return iter(self._titles.values())

    def __getitem__(self, title_id: str) -> Title:
        try:
            return self._titles[title_id]
        except KeyError:
            raise TitleNotFound(title_id=title_id) from None

    def playable(self, title_id: str, *, kids: bool) -> Title:
        title = self[title_id]
        if kids and title.maturity > KIDS_MAX:
            raise NotForKids(title_id=title_id)
        return title


DEMO_TITLES: tuple[Title, ...] = (
    Title("night-harbour", "Night Harbour", Maturity.SIXTEEN, 2025, "Thriller", 52),
    Title("the-long-orbit", "The Long Orbit", Maturity.TWELVE, 2024, "Science fiction", 118),
    Title("kitchen-wars", "Kitchen Wars", Maturity.ALL, 2023, "Reality", 44),
    Title("paper-lanterns", "Paper Lanterns", Maturity.SEVEN, 2022, "Animation", 95),
    Title("cold-case-lisbon", "Cold Case: Lisbon", Maturity.SIXTEEN, 2026, "Crime", 48),
    Title("wild-coasts", "Wild Coasts", Maturity.ALL, 2021, "Documentary", 50),
    Title("the-last-heist", "The Last Heist", Maturity.EIGHTEEN, 2025, "Action", 131),
    Title("dragon-school", "Dragon School", Maturity.ALL, 2024, "Animation", 24),
    Title("midnight-diner", "Midnight Diner", Maturity.TWELVE, 2020, "Drama", 25),
    Title("galaxy-quiz", "Galaxy Quiz", Maturity.SEVEN, 2026, "Family", 30),
    Title("the-quiet-house", "The Quiet House", Maturity.EIGHTEEN, 2023, "Horror", 101),
    Title("football-nation", "Football Nation", Maturity.TWELVE, 2025, "Sport", 58),
)
