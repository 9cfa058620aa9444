"""Persistence: SQLModel tables, repositories and Alembic migrations. No channel imports."""
