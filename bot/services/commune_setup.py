"""The commune file (TOML): read, check, and apply it so that re-running updates in place."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import demo, roles
from bot.textfold import nfc
from storage.models import Commune, Hamlet
from storage.repositories import Communes, Hamlets

UNIT_TYPES = ("xã", "phường", "đặc khu")
DEMO_FILE = Path(__file__).resolve().parents[1] / "demo_data" / "commune.toml"  # packaged


class CommuneFileError(ValueError):
    """The commune file is not usable; the message names the problem."""


class DemoError(ValueError):
    """The demo cannot be loaded here; the message says why."""


@dataclass
class StaffEntry:
    """A staff member from the file: a channel identity and a role."""

    channel: str
    user_id: str
    role: str
    hamlets: list[str] = field(default_factory=list)
    name: str | None = None  # how colleagues see them in the chat


@dataclass
class CommuneFile:
    """What a commune file describes."""

    commune: dict[str, str]
    hamlets: list[dict[str, str]]
    staff: list[StaffEntry]
    options: dict[str, Any] = field(default_factory=dict)


def _text(table: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CommuneFileError(f"{where}: '{key}' must be a non-empty text")
    return nfc(value.strip())


def _tables(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CommuneFileError(f"[[{key}]] must be a list of tables")
    return value


def read(path: Path) -> CommuneFile:
    """Parse and check a commune file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CommuneFileError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CommuneFileError(f"{path} is not valid TOML: {exc}") from exc
    section = raw.get("commune")
    if not isinstance(section, dict):
        raise CommuneFileError("the file needs a [commune] section")
    commune = {key: _text(section, key, "[commune]", key in ("name", "unit_type"))
               for key in ("name", "unit_type", "province", "office_address", "office_phone",
                           "office_email")}
    if commune["unit_type"] not in UNIT_TYPES:
        raise CommuneFileError(f"[commune] unit_type must be one of {', '.join(UNIT_TYPES)}")
    hamlets, seen = [], set()
    for i, entry in enumerate(_tables(raw, "hamlets"), 1):
        where = f"[[hamlets]] #{i}"
        hamlet = {key: _text(entry, key, where, key != "label")
                  for key in ("code", "name", "label")}
        if hamlet["code"] in seen:
            raise CommuneFileError(f"{where}: code {hamlet['code']!r} is used twice")
        seen.add(hamlet["code"])
        hamlets.append(hamlet)
    staff = []
    for i, entry in enumerate(_tables(raw, "staff"), 1):
        where = f"[[staff]] #{i}"
        user_id = entry.get("user_id")
        if isinstance(user_id, int):
            user_id = str(user_id)
        hamlet_refs = entry.get("hamlets", [])
        if not isinstance(hamlet_refs, list):
            raise CommuneFileError(f"{where}: 'hamlets' must be a list of hamlet codes")
        staff.append(StaffEntry(
            channel=_text(entry, "channel", where),
            user_id=_text({"user_id": user_id or ""}, "user_id", where),
            role=_text(entry, "role", where), hamlets=[str(h) for h in hamlet_refs],
            name=str(entry["name"]).strip() or None if entry.get("name") else None,
        ))
    return CommuneFile(commune, hamlets, staff, _options(raw))


def _options(raw: dict[str, Any]) -> dict[str, Any]:
    """The optional [petitions] and [calendar] sections, checked, in JSON-ready form."""
    options: dict[str, Any] = {}
    petitions = raw.get("petitions", {})
    if not isinstance(petitions, dict):
        raise CommuneFileError("[petitions] must be a table")
    if petitions:
        checked: dict[str, Any] = {}
        for key in ("daily_limit", "feedback_answer_days"):
            if key in petitions:
                value = petitions[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise CommuneFileError(f"[petitions] {key} must be a positive whole number")
                checked[key] = value
        if "fields" in petitions:
            fields = _tables(petitions, "fields")
            checked["fields"] = [
                {"code": _text(f, "code", "[[petitions.fields]]"),
                 "name": _text(f, "name", "[[petitions.fields]]")} for f in fields
            ]
        options["petitions"] = checked
    calendar = raw.get("calendar", {})
    if not isinstance(calendar, dict):
        raise CommuneFileError("[calendar] must be a table")
    if calendar:
        options["calendar"] = {}
        for key in ("days_off", "make_up_days"):
            days = calendar.get(key, [])
            if not isinstance(days, list) or not all(isinstance(d, date) for d in days):
                raise CommuneFileError(f"[calendar] {key} must be a list of dates (2026-02-14)")
            options["calendar"][key] = [d.isoformat() for d in days]
    return options


async def apply(session: AsyncSession, spec: CommuneFile, actor: str,
                pseudonym_key: bytes = b"") -> dict[str, int]:
    """Create or update the commune, its hamlets and staff grants; returns counts."""
    communes = Communes(session)
    commune = await communes.current() or Commune(name="", unit_type="xã")
    for key, value in spec.commune.items():
        setattr(commune, key, value)
    commune.options = spec.options
    await communes.save(commune)

    repo = Hamlets(session)
    listed = set()
    for position, entry in enumerate(spec.hamlets):
        hamlet = await repo.by_code(entry["code"]) or Hamlet(commune_id=commune.id, code="")
        hamlet.code, hamlet.name = entry["code"], entry["name"]
        hamlet.label = entry["label"] or "thôn"
        hamlet.position, hamlet.active, hamlet.commune_id = position, True, commune.id
        await repo.add(hamlet)
        listed.add(hamlet.code)
    retired = 0
    for hamlet in await repo.all():
        if hamlet.code not in listed and hamlet.active:
            hamlet.active = False  # kept for history: users and petitions may point at it
            retired += 1
            await repo.add(hamlet)

    granted = 0
    for member in spec.staff:
        try:
            granted += await roles.grant(session, member.channel, member.user_id, member.role,
                                         member.hamlets, actor, name=member.name,
                                         key=pseudonym_key)
        except roles.RoleError as exc:
            raise CommuneFileError(f"[[staff]] {member.user_id}: {exc}") from exc
    return {"hamlets": len(listed), "retired": retired, "grants": granted}


async def load_demo_if_empty(session: AsyncSession, actor: str,
                             timezone: str = "Asia/Ho_Chi_Minh", *, now: datetime) -> bool:
    """Load the demo commune, dated from `now`, into an empty database; True when it did."""
    if await Communes(session).current() is not None:
        return False
    await _load_demo(session, actor, timezone, now)
    return True


async def _load_demo(session: AsyncSession, actor: str, timezone: str,
                     now: datetime) -> dict[str, int]:
    await apply(session, read(DEMO_FILE), actor)
    commune = await Communes(session).current()
    commune.options = {**commune.options, "demo": True}  # what `demo --reset` may wipe
    await Communes(session).save(commune)
    return {"disclosures": await demo.load_disclosures(session, now=now, timezone=timezone,
                                                       actor=actor),
            "sessions": await demo.load_sessions(session, now=now, timezone=timezone,
                                                 actor=actor)}


async def holds_demo(session: AsyncSession) -> bool:
    """Whether the database holds the demo commune: loaded as the demo, or (databases from
    before the mark) with the demo file's name, province and hamlets."""
    commune = await Communes(session).current()
    if commune is None:
        return False
    if commune.options.get("demo"):
        return True
    spec = read(DEMO_FILE)
    hamlets = {h.code for h in await Hamlets(session).all()}
    return ((commune.name, commune.province) == (spec.commune["name"], spec.commune["province"])
            and hamlets == {h["code"] for h in spec.hamlets})


async def reload_demo(session: AsyncSession, actor: str, timezone: str, *,
                      now: datetime) -> dict[str, int]:
    """Empty a demo database and load the demo again, dated from `now`; returns counts.

    Refused (DemoError) when the database holds another commune: nothing is removed then.
    """
    commune = await Communes(session).current()
    if commune is not None and not await holds_demo(session):
        raise DemoError(f"this database holds {commune.name}, not the demo commune; "
                        "only a demo database is reloaded")
    for table in reversed(SQLModel.metadata.sorted_tables):
        await session.exec(table.delete())
    session.expunge_all()
    return await _load_demo(session, actor, timezone, now)
