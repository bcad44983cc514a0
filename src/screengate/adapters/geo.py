"""Approximate location from the client address: a MaxMind-format database when one is given."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Any

import maxminddb


class NoGeolocator:
    """Without a database nothing is known; the device list says so rather than guess."""

    def locate(self, ip: str | None) -> str | None:
        return None


class MaxMindGeolocator:
    """Reads a GeoLite2/GeoIP2 City or Country database (SCREENGATE_GEOIP_DATABASE)."""

    def __init__(self, path: Path) -> None:
        self._reader = maxminddb.open_database(str(path))
        self._cached = lru_cache(maxsize=16384)(self._locate)

    def locate(self, ip: str | None) -> str | None:
        return self._cached(ip)

    def _locate(self, ip: str | None) -> str | None:
        if not ip:
            return None
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if not address.is_global:
            return None
        record: Any = self._reader.get(str(address))
        if not isinstance(record, dict):
            return None
        parts = [_english(record.get("city")), _english(record.get("country"))]
        return ", ".join(p for p in parts if p) or None


def _english(entry: Any) -> str | None:
    if isinstance(entry, dict):
        names = entry.get("names")
        if isinstance(names, dict):
            name = names.get("en")
            return name if isinstance(name, str) else None
    return None
