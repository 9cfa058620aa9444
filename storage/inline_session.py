"""SQLModel's AsyncSession API over a plain (sync) Session, for SQLite.

SQLAlchemy's asyncio layer runs every statement, flush and commit through a new greenlet
and the aiosqlite adapter: on a local SQLite file that machinery cost more than the SQL
(a menu turn: about 600 µs, two thirds of it the async plumbing). SQLite statements
take microseconds, so the bot runs them in place, on the event loop's thread: this class
offers the awaitable methods the code base uses and calls the sync Session directly.
PostgreSQL keeps the real AsyncSession on asyncpg.

A slow statement holds the event loop for its duration; the bot's statements are
indexed lookups and small writes, and the big reads (exports, reports) stream in rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from sqlalchemy.engine import Connection, Result
from sqlmodel import Session


class _Rows:
    """What `await session.stream(...)` gives: the rows, iterable with `async for`."""

    def __init__(self, result: Result[Any] | Any) -> None:
        self._result = result

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        for row in self._result:
            yield row

    def __iter__(self) -> Iterator[Any]:
        return iter(self._result)


class InlineConnection:
    """AsyncConnection's execute on a sync Connection (what `session.connection()` gives)."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        """Run a Core statement (a list of parameter dicts runs it as executemany)."""
        return self.sync_connection.execute(statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        """Run SQL text as the driver takes it."""
        return self.sync_connection.exec_driver_sql(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        """The first column of the first row."""
        return self.sync_connection.scalar(statement, parameters, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sync_connection, name)


class InlineSession:
    """The awaitable session API used in this code base, run in place on a sync Session."""

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    async def __aenter__(self) -> InlineSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sync_session.close()

    async def exec(self, statement: Any, **kw: Any) -> Any:
        """SQLModel's exec: scalars for a select of one entity, the Result otherwise."""
        return self.sync_session.exec(statement, **kw)

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """SQLAlchemy's execute."""
        return self.sync_session.execute(statement, params, **kw)

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        """The first column of the first row."""
        return self.sync_session.scalar(statement, params, **kw)

    async def stream(self, statement: Any, params: Any = None, **kw: Any) -> _Rows:
        """Rows to read with `async for`, fetched as they are read."""
        options = {"yield_per": 1000, **kw.pop("execution_options", {})}
        return _Rows(self.sync_session.execute(statement, params,
                                               execution_options=options, **kw))

    async def stream_scalars(self, statement: Any, params: Any = None, **kw: Any) -> _Rows:
        """Like `stream`, the first column of each row."""
        options = {"yield_per": 1000, **kw.pop("execution_options", {})}
        return _Rows(self.sync_session.scalars(statement, params,
                                               execution_options=options, **kw))

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        """The object with this primary key, or None."""
        return self.sync_session.get(entity, ident, **kw)

    async def flush(self, objects: Any = None) -> None:
        """Write pending changes (still inside the transaction)."""
        self.sync_session.flush(objects)

    async def commit(self) -> None:
        """Commit the transaction."""
        self.sync_session.commit()

    async def rollback(self) -> None:
        """Roll the transaction back."""
        self.sync_session.rollback()

    async def refresh(self, instance: Any, attribute_names: Any = None, **kw: Any) -> None:
        """Reload an object's attributes from the database."""
        self.sync_session.refresh(instance, attribute_names, **kw)

    async def delete(self, instance: Any) -> None:
        """Mark an object for deletion."""
        self.sync_session.delete(instance)

    async def merge(self, instance: Any, **kw: Any) -> Any:
        """Copy an object's state into this session."""
        return self.sync_session.merge(instance, **kw)

    async def connection(self, **kw: Any) -> InlineConnection:
        """The session's connection, for Core statements in the same transaction."""
        return InlineConnection(self.sync_session.connection(**kw))

    async def close(self) -> None:
        """Release the connection (rolling back anything uncommitted)."""
        self.sync_session.close()

    def __getattr__(self, name: str) -> Any:  # add, add_all, expire_all, identity_map…
        return getattr(self.sync_session, name)
