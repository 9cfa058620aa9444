"""What a turn of the engine starts from, read in one query, and the conversation saved back.

A turn needs the person (an ORM `User`: flows change it), their roles, their conversation
state and the commune. Four ORM queries cost more than the rest of a turn, so they are one
statement built once; the conversation row is read and written with Core (the engine is
its only writer).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Commune, Conversation, RoleGrant, User, utcnow

_conversations = Conversation.__table__
_roles = (
    sa.select(sa.func.aggregate_strings(RoleGrant.role, ","))
    .where(RoleGrant.channel == User.channel, RoleGrant.user_id == User.external_id)
    .scalar_subquery()
)
_first_commune = sa.select(sa.func.min(Commune.id)).scalar_subquery()
TURN_QUERY = (
    sa.select(User, Commune, _roles.label("roles"), _conversations.c.id,
              _conversations.c.flow, _conversations.c.step, _conversations.c.data,
              _conversations.c.buttons)
    .select_from(User)
    .outerjoin(_conversations, sa.and_(_conversations.c.channel == User.channel,
                                       _conversations.c.user_id == User.external_id))
    .outerjoin(Commune, Commune.id == _first_commune)
    .where(User.channel == sa.bindparam("channel"),
           User.external_id == sa.bindparam("external_id"))
)
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


@dataclasses.dataclass
class TurnState:
    """Everything a turn reads before the flow runs."""

    user: User
    roles: frozenset[str]
    conversation: ConversationState
    commune: Commune | None


async def load(session: AsyncSession, channel: str, external_id: str,
               locale: str) -> TurnState:
    """The turn's starting state; a first contact creates the user (with `locale`)."""
    found = await _select(session, channel, external_id)
    if found is None:
        session.add(User(channel=channel, external_id=external_id, locale=locale))
        await session.flush()
        found = await _select(session, channel, external_id)
        assert found is not None
    return found


async def _select(session: AsyncSession, channel: str, external_id: str) -> TurnState | None:
    result = await session.exec(TURN_QUERY, params={"channel": channel,
                                                     "external_id": external_id})
    row = result.first()
    if row is None:
        return None
    user, commune, roles, conv_id, flow, step, data, buttons = row
    return TurnState(
        user=user, commune=commune,
        roles=frozenset({"resident", *(roles.split(",") if roles else ())}),
        conversation=ConversationState(conv_id, flow, step, data or {}, buttons or []),
    )


async def save_conversation(session: AsyncSession, channel: str, external_id: str,
                            state: ConversationState) -> None:
    """Write the conversation row (inserted on the first turn)."""
    values = {"flow": state.flow, "step": state.step, "data": state.data,
              "buttons": state.buttons, "updated_at": utcnow()}
    connection = await session.connection()
    if state.id is None:
        result = await connection.execute(
            _INSERT, {"channel": channel, "user_id": external_id, **values})
        state.id = result.inserted_primary_key[0]
    else:
        await connection.execute(_UPDATE, {"conversation_id": state.id, **values})
