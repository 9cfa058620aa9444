"""The commune file and roles: re-running updates and never duplicates; bad files explain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from bot.services import commune_setup, roles
from storage.models import Commune, Hamlet, RoleGrant


async def _apply(db, text: str, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "commune.toml"
    path.write_text(text, encoding="utf-8")
    async with db.session() as s:
        counts = await commune_setup.apply(s, commune_setup.read(path), "test")
        await s.commit()
    return counts


FILE = """
[commune]
name = "Phường Hòa Bình"
unit_type = "phường"
province = "Lạng Sơn"
[[hamlets]]
code = "tdp-1"
name = "Tổ dân phố 1"
label = "tổ dân phố"
[[hamlets]]
code = "tdp-2"
name = "Tổ dân phố 2"
[[staff]]
channel = "telegram"
user_id = 123456789
role = "admin"
[[staff]]
channel = "telegram"
user_id = "555"
role = "hamlet_head"
hamlets = ["tdp-1", "Tổ dân phố 2"]
"""


async def test_rerunning_the_commune_file_updates_and_never_duplicates(db, tmp_path):
    assert await _apply(db, FILE, tmp_path) == {"hamlets": 2, "retired": 0, "grants": 3}
    changed = FILE.replace('name = "Tổ dân phố 2"', 'name = "Tổ dân phố số 2"').replace(
        '[[hamlets]]\ncode = "tdp-1"\nname = "Tổ dân phố 1"\nlabel = "tổ dân phố"\n', "")
    changed = changed.replace('hamlets = ["tdp-1", "Tổ dân phố 2"]', 'hamlets = ["tdp-2"]')
    assert await _apply(db, changed, tmp_path) == {"hamlets": 1, "retired": 1, "grants": 0}
    async with db.session() as s:
        assert len((await s.exec(select(Commune))).all()) == 1
        hamlets = {h.code: h for h in (await s.exec(select(Hamlet))).all()}
        grants = (await s.exec(select(RoleGrant))).all()
    assert set(hamlets) == {"tdp-1", "tdp-2"}
    assert hamlets["tdp-2"].name == "Tổ dân phố số 2" and hamlets["tdp-2"].active
    assert not hamlets["tdp-1"].active  # retired, kept for history
    assert hamlets["tdp-2"].label == "thôn"  # the default label
    assert sorted((g.user_id, g.role) for g in grants) == [
        ("123456789", "admin"), ("555", "hamlet_head"), ("555", "hamlet_head")]


@pytest.mark.parametrize(("text", "message"), [
    ("[commune\nname=", "not valid TOML"),
    ("[[hamlets]]\ncode='a'\nname='A'", "needs a [commune] section"),
    ("[commune]\nname='X'\nunit_type='thị trấn'", "unit_type must be one of xã, phường, đặc khu"),
    ("[commune]\nname='X'\nunit_type='xã'\n[[hamlets]]\ncode='a'\nname='A'\n"
     "[[hamlets]]\ncode='a'\nname='B'", "code 'a' is used twice"),
    ("[commune]\nname=''\nunit_type='xã'", "'name' must be a non-empty text"),
    ("hamlets='khu-1'\n[commune]\nname='X'\nunit_type='xã'",
     "[[hamlets]] must be a list of tables"),
    ("[commune]\nname='X'\nunit_type='xã'\n[[staff]]\nchannel='telegram'\nrole='admin'",
     "[[staff]] #1: 'user_id' must be a non-empty text"),
])
def test_a_bad_commune_file_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(commune_setup.CommuneFileError, match=re.escape(message)):
        commune_setup.read(path)


async def test_roles_are_granted_per_hamlet_and_revoked(db, tmp_path):
    await _apply(db, FILE, tmp_path)
    async with db.session() as s:
        assert await roles.grant(s, "zalo", "z1", "hamlet_head", ["tdp-1"], "cli:test") == 1
        assert await roles.grant(s, "zalo", "z1", "hamlet_head", ["tdp-1"], "cli:test") == 0
        assert await roles.roles_of(s, "zalo", "z1") == {"resident", "hamlet_head"}
        with pytest.raises(roles.RoleError, match="needs at least one --hamlet"):
            await roles.grant(s, "zalo", "z1", "hamlet_head", [], "cli:test")
        with pytest.raises(roles.RoleError, match="unknown hamlet 'nowhere'"):
            await roles.grant(s, "zalo", "z1", "hamlet_head", ["nowhere"], "cli:test")
        with pytest.raises(roles.RoleError, match="unknown role"):
            await roles.grant(s, "zalo", "z1", "mayor", [], "cli:test")
        assert await roles.revoke(s, "zalo", "z1", "hamlet_head", [], "cli:test") == 1
        assert await roles.roles_of(s, "zalo", "z1") == {"resident"}
        await s.commit()
