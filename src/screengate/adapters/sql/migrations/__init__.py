"""Alembic migrations for the SQL store. Run them with screengate.adapters.sql.migrate."""
