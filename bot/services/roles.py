"""Granting and revoking roles; every change is written to the interaction log.

The log's row names the acting admin in `actor` (an official acting in office) and the
identity concerned by its pseudonymous reference (`user_ref`, the same as on that identity's
own turns), never by its channel id: a chat id is personal data, and an export with personal
data turns the reference back into it for an admin."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pseudonym import user_ref
from storage import clock
from storage.models import InteractionLog
from storage.repositories import Hamlets, InteractionLogs, RoleGrants

ROLES = ("resident", "hamlet_head", "staff", "investigator", "admin")
CHANNELS = ("telegram", "zalo", "zalo_oa", "console")


class RoleError(ValueError):
    """A grant that cannot be made; the message says why."""


async def hamlet_ids(session: AsyncSession, hamlets: Sequence[str]) -> list[int]:
    """Ids of hamlets given by code or name (RoleError names one that does not exist)."""
    repo = Hamlets(session)
    ids = []
    for ref in hamlets:
        hamlet = await repo.by_code(ref) or next(
            (h for h in await repo.all() if h.name.casefold() == ref.casefold()), None
        )
        if hamlet is None:
            raise RoleError(f"unknown hamlet {ref!r} (use its code or name from the commune file)")
        ids.append(hamlet.id)
    return ids


def _check(channel: str, role: str) -> None:
    if channel not in CHANNELS:
        raise RoleError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if role not in ROLES:
        raise RoleError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


async def grant(
    session: AsyncSession, channel: str, user_id: str, role: str,
    hamlets: Sequence[str] = (), actor: str = "", name: str | None = None, key: bytes = b"",
) -> int:
    """Grant `role` (per hamlet for hamlet heads); returns how many grants were added.

    `name` is how colleagues see this person in the chat ("Chị Lan – địa chính"); `key` is
    the pseudonym key: the log names the identity concerned by its reference.
    """
    _check(channel, role)
    if role == "hamlet_head" and not hamlets:
        raise RoleError("a hamlet_head needs at least one --hamlet")
    if role == "resident":
        return 0  # everyone is a resident; nothing to store
    ids: list[int | None] = list(await hamlet_ids(session, hamlets)) if hamlets else [None]
    grants = RoleGrants(session)
    added = 0
    for hamlet_id in ids:
        added += await grants.grant(channel, user_id, role, hamlet_id, actor,
                                    " ".join((name or "").split())[:120] or None)
    _log(session, "role_grant", f"{role} {len(ids)}", actor, channel, user_id, key)
    return added


async def revoke(
    session: AsyncSession, channel: str, user_id: str, role: str,
    hamlets: Sequence[str] = (), actor: str = "", key: bytes = b"",
) -> int:
    """Revoke `role` (only for the given hamlets when any); returns grants removed."""
    _check(channel, role)
    ids = await hamlet_ids(session, hamlets)
    removed = await RoleGrants(session).revoke(channel, user_id, role, ids)
    _log(session, "role_revoke", f"{role} {removed}", actor, channel, user_id, key)
    if removed and not await roles_of(session, channel, user_id) & set(STAFF):
        from bot.services import web_access  # it imports this module

        await web_access.end_all(session, channel, user_id, clock.now())
    return removed


def _log(session: AsyncSession, kind: str, text: str, actor: str, channel: str, user_id: str,
         key: bytes) -> None:
    """The admin row of a role change, naming whom it concerns by reference."""
    InteractionLogs(session).append(InteractionLog(
        channel=channel[:20], direction="admin", kind=kind, text=text, actor=actor,
        user_ref=user_ref(key, channel, user_id) if key else ""))


async def roles_of(session: AsyncSession, channel: str, user_id: str) -> set[str]:
    """The roles a channel identity holds; everyone is at least a resident."""
    return {"resident"} | {g.role for g in await RoleGrants(session).of(channel, user_id)}


STAFF = ("staff", "admin")


def identity(channel: str, user_id: str) -> str:
    """How a channel identity is written in records: "telegram:900001"."""
    return f"{channel}:{user_id}"


async def staff_names(session: AsyncSession) -> dict[str, str]:
    """Staff and admins, identity -> the name colleagues see (a plain word when unnamed),
    in the order they were granted."""
    names: dict[str, str] = {}
    for held in await RoleGrants(session).holders(STAFF):
        key = identity(held.channel, held.user_id)
        if held.name or key not in names:
            names[key] = held.name or names.get(key) or ""
    return names


def display(names: dict[str, str], who: str | None, unnamed: str) -> str:
    """A person's name for staff messages: the granted name, a name typed as is, or
    `unnamed` (never a channel id)."""
    if not who:
        return ""
    if who in names:
        return names[who] or unnamed
    channel, _, rest = who.partition(":")
    return unnamed if channel in (*CHANNELS, "cli") and rest else who
