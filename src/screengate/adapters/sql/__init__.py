"""The SQL store: SQLAlchemy Core over SQLite (embedded) or PostgreSQL (scale-out), with Alembic."""

from screengate.adapters.sql.engine import create_engine_for
from screengate.adapters.sql.migrate import upgrade, upgrade_sync
from screengate.adapters.sql.uow import SqlUnitOfWork, sql_unit_of_work_factory

__all__ = [
    "SqlUnitOfWork",
    "create_engine_for",
    "sql_unit_of_work_factory",
    "upgrade",
    "upgrade_sync",
]
