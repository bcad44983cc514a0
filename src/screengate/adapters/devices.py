"""Device names read from the User-Agent with ua-parser ("Chrome on macOS", "iPhone")."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

# ua-parser's family names, as people say them.
_SPOKEN = {"Mac OS X": "macOS", "Chrome Mobile": "Chrome", "Mobile Safari": "Safari"}


class UserAgentNamer:
    def name_for(self, user_agent: str | None) -> str | None:
        return _name(user_agent[:512]) if user_agent else None


@lru_cache(maxsize=4096)
def _name(user_agent: str) -> str | None:
    result = parse(user_agent)
    browser = _spoken(result.user_agent.family if result.user_agent else None)
    system = _spoken(result.os.family if result.os else None)
    device = _spoken(result.device.family if result.device else None)
    if browser and system:
        return f"{browser} on {system}"
    return device or system or browser


def _spoken(family: str | None) -> str | None:
    if not family or family == "Other":
        return None
    return _SPOKEN.get(family, family)
