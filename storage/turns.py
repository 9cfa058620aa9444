"""What a turn of the engine starts from, read in one query, and the conversation saved back.

A turn needs the person (an ORM `User`: flows change it), their roles, their conversation
state and the commune. Four ORM queries cost more than the rest of a turn, so they are
one Core statement built once, and the user and commune rows become ORM objects without
the ORM's loading machinery; the conversation row is read and written with Core (the
engine is its only writer).

Turns of one person are serialised in the database: on PostgreSQL, where several
processes may share the database, the turn first locks the person's row (`SELECT … FOR
UPDATE`, held until the turn's transaction ends) and only then reads its state, in a
statement of its own: a locking query that waited returns the locked row as it is now but
the rows joined to it as they were when it started (a double tap would see the state from
before the first tap). SQLite has one writer anyway. A first contact made by two
processes at once creates one user (the loser of the race reads the winner's).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import clock
from storage.models import Commune, Conversation, RoleGrant, User

T = TypeVar("T")


class comma_list(FunctionElement):  # noqa: N801 - named like the SQL functions it renders
    """The values of a column, joined with commas (no bound separator to expand per call)."""

    type = sa.String()
    inherit_cache = True


@compiles(comma_list, "sqlite")
def _group_concat(element: comma_list, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(comma_list, "postgresql")
def _string_agg(element: comma_list, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


_users, _communes, _conversations = User.__table__, Commune.__table__, Conversation.__table__
_roles = (
    sa.select(comma_list(RoleGrant.__table__.c.role))
    .where(RoleGrant.__table__.c.channel == _users.c.channel,
           RoleGrant.__table__.c.user_id == _users.c.external_id)
    .scalar_subquery()
)
_first_commune = sa.select(sa.func.min(_communes.c.id)).scalar_subquery()
_USER_KEYS = tuple(c.key for c in _users.c)
_COMMUNE_KEYS = tuple(c.key for c in _communes.c)
_CONVERSATION_KEYS = ("id", "flow", "step", "data", "buttons", "last_press")
TURN_QUERY = (
    sa.select(*_users.c, *(c.label(f"commune_{c.key}") for c in _communes.c),
              *(_conversations.c[k].label(f"conversation_{k}") for k in _CONVERSATION_KEYS),
              _roles.label("roles"))
    .select_from(_users)
    .outerjoin(_conversations, sa.and_(_conversations.c.channel == _users.c.channel,
                                       _conversations.c.user_id == _users.c.external_id))
    .outerjoin(_communes, _communes.c.id == _first_commune)
    .where(_users.c.channel == sa.bindparam("channel"),
           _users.c.external_id == sa.bindparam("external_id"))
)
_LOCK = (sa.select(_users.c.id)
         .where(_users.c.channel == sa.bindparam("channel"),
                _users.c.external_id == sa.bindparam("external_id"))
         .with_for_update())
_COMMUNES_SEEN: dict[tuple, Commune] = {}
_UPDATE = _conversations.update().where(_conversations.c.id == sa.bindparam("conversation_id"))
_INSERT = _conversations.insert()


@dataclasses.dataclass
class ConversationState:
    """Where a person is in a flow and the buttons they were last offered."""

    id: int | None = None
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    buttons: list[list[str]] = dataclasses.field(default_factory=list)
    last_press: dict[str, Any] | None = None  # {"offer", "payload", "replies"}


@dataclasses.dataclass
class TurnState:
    """Everything a turn reads before the flow runs."""

    user: User
    roles: frozenset[str]
    conversation: ConversationState
    commune: Commune | None  # detached and shared between turns: read it, never change it


async def load(session: AsyncSession, channel: str, external_id: str,
               locale: str) -> TurnState:
    """The turn's starting state; a first contact creates the user (with `locale`)."""
    connection = await session.connection()
    locking = connection.dialect.name != "sqlite"  # SQLite: one process, one writer
    params = {"channel": channel, "external_id": external_id}
    if locking:
        await connection.execute(_LOCK, params)
    found = await _select(session, channel, external_id)
    if found is None:
        user = User(channel=channel, external_id=external_id, locale=locale)
        if not locking:
            session.add(user)
            await session.flush()
        else:
            try:
                async with session.begin_nested():  # another process may create them too
                    session.add(user)
            except IntegrityError:
                pass
            await connection.execute(_LOCK, params)
        found = await _select(session, channel, external_id)
        assert found is not None
    return found


async def _select(session: AsyncSession, channel: str, external_id: str) -> TurnState | None:
    connection = await session.connection()
    result = await connection.execute(TURN_QUERY, {"channel": channel,
                                                   "external_id": external_id})
    row = result.first()
    if row is None:
        return None
    values = row._mapping
    user = _attached(session, User, {k: values[k] for k in _USER_KEYS})
    commune = _commune({k: values[f"commune_{k}"] for k in _COMMUNE_KEYS})
    conversation = ConversationState(*(values[f"conversation_{k}"] for k in _CONVERSATION_KEYS))
    conversation.data = conversation.data or {}
    conversation.buttons = conversation.buttons or []
    roles = values["roles"]
    return TurnState(user=user, commune=commune, conversation=conversation,
                     roles=frozenset({"resident", *(roles.split(",") if roles else ())}))


def _commune(values: dict[str, Any]) -> Commune | None:
    """The commune as read this turn, for reading only: the object built for the same row
    before is handed out again (building it cost as much as the rest of the query)."""
    if values["id"] is None:
        return None
    key = tuple(v for k, v in values.items() if k != "options")
    seen = _COMMUNES_SEEN.get(key)
    if seen is not None and seen.options == values["options"]:
        return seen
    commune = Commune.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    commune.__dict__.update(values)
    make_transient_to_detached(commune)
    if len(_COMMUNES_SEEN) >= 16:
        _COMMUNES_SEEN.clear()
    _COMMUNES_SEEN[key] = commune
    return commune


def _attached(session: AsyncSession, model: type[T], values: dict[str, Any]) -> T:
    """A persistent ORM object of `model` made from a row already read, as if the session
    had loaded it: flows may change it and the session writes the change. (The ORM's
    loading machinery cost more than the query.)
    """
    known = session.identity_map.get(identity_key(model, values["id"]))
    if known is not None:
        return known
    instance = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


async def save_conversation(session: AsyncSession, channel: str, external_id: str,
                            state: ConversationState) -> None:
    """Write the conversation row (inserted on the first turn)."""
    values = {"flow": state.flow, "step": state.step, "data": state.data,
              "buttons": state.buttons, "last_press": state.last_press,
              "updated_at": clock.now()}
    connection = await session.connection()
    if state.id is None:
        result = await connection.execute(
            _INSERT, {"channel": channel, "user_id": external_id, **values})
        state.id = result.inserted_primary_key[0]
    else:
        await connection.execute(_UPDATE, {"conversation_id": state.id, **values})
