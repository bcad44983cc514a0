"""Membership plans and the catalogue operators can change in config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from screengate.domain.errors import UnknownPlan


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    max_streams: int
    max_download_devices: int
    max_downloads_per_device: int

    def __post_init__(self) -> None:
        if self.max_streams < 1 or self.max_download_devices < 0:
            raise ValueError(f"plan {self.name!r} needs at least one stream")
        if self.max_downloads_per_device < 0:
            raise ValueError(f"plan {self.name!r} has a negative download cap")


DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan("basic", 1, 1, 100),
    Plan("standard_with_ads", 2, 2, 15),
    Plan("standard", 2, 2, 100),
    Plan("premium", 4, 6, 100),
)


class PlanCatalogue:
    """The plans on offer, by name."""

    def __init__(self, plans: Iterable[Plan] = DEFAULT_PLANS) -> None:
        self._plans: Mapping[str, Plan] = {plan.name: plan for plan in plans}
        if not self._plans:
            raise ValueError("the plan catalogue is empty")

    def __getitem__(self, name: str) -> Plan:
        try:
            return self._plans[name]
        except KeyError:
            raise UnknownPlan(f"There is no plan called {name!r}.", plans=self.names) from None

    def __contains__(self, name: object) -> bool:
        return name in self._plans

    @property
    def names(self) -> list[str]:
        return list(self._plans)
