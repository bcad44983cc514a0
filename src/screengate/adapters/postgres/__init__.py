"""PostgreSQL as the only shared service: the bus (LISTEN/NOTIFY) and presence."""

from screengate.adapters.postgres.bus import PostgresBus
from screengate.adapters.postgres.presence import PostgresPresence

__all__ = ["PostgresBus", "PostgresPresence"]
