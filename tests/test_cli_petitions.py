"""Staff handle petitions from the shell: list, show, identity (investigators), status, answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from bot.services import petitions as service
from bot.services.commune_setup import DEMO_FILE
from bot.services.petition_intake import Identity, Intake, submit
from storage import clock
from storage.db import Database, async_database_url
from storage.models import InteractionLog, OutboxMessage, Petition
from storage.repositories import Communes, Users


def _file_petitions(db_path: Path) -> None:
    async def go() -> None:
        db = Database(async_database_url(f"sqlite:///{db_path}"))
        async with db.session() as session:
            user = await Users(session).get_or_create("console", "dan", "vi")
            settings = service.Settings.of(await Communes(session).current())
            for kind, identity in (("feedback", None),
                                   ("complaint", Identity("Lê Văn Cường", "Khu 1")),
                                   ("denunciation", Identity("Phạm Thị Dung", "Khu 2"))):
                intake = Intake(kind, "other", f"Nội dung {kind}: việc cần xem xét.",
                                identity=identity)
                await submit(session, intake, user, now=clock.now(),
                             timezone="Asia/Ho_Chi_Minh", settings=settings)
            await session.commit()
        await db.dispose()

    asyncio.run(go())


def _rows(db_path: Path, model: type) -> list:
    async def go() -> list:
        db = Database(async_database_url(f"sqlite:///{db_path}"))
        async with db.session() as session:
            found = list((await session.exec(select(model))).all())
        await db.dispose()
        return found

    return asyncio.run(go())


def test_staff_handle_petitions_from_the_shell(shell, capsys, tmp_path):
    assert shell(capsys, "init", str(DEMO_FILE))[0] == 0
    _file_petitions(tmp_path / "cli.db")
    year = clock.today("Asia/Ho_Chi_Minh").year

    code, out, err = shell(capsys, "petition", "list")
    assert code == 0, err
    listed = [line.split()[0] for line in out.splitlines()]
    # Soonest answer first: feedback (15 working days) before the legal 30-day clocks.
    assert listed[0] == f"PA-{year}-000001"
    assert sorted(listed) == sorted([f"PA-{year}-000001", f"KN-{year}-000002",
                                     f"TC-{year}-000003"])

    code, out, err = shell(capsys, "petition", "show", f"tc-{year}-000003")
    assert code == 0 and "Nội dung denunciation" in out
    assert "Phạm Thị Dung" not in out  # the denouncer is not shown
    code, out, err = shell(capsys, "petition", "show", f"KN-{year}-000002")
    assert "Lê Văn Cường" in out  # a complainant's name is part of the case

    code, out, err = shell(capsys, "petition", "identity", f"TC-{year}-000003",
                           "--investigator", "console:canbo")
    assert code == 1 and "only an investigator" in err
    assert shell(capsys, "role", "grant", "--channel", "console", "--user-id", "canbo",
                 "--role", "investigator")[0] == 0
    code, out, err = shell(capsys, "petition", "identity", f"TC-{year}-000003",
                           "--investigator", "console:canbo")
    assert code == 0 and "Phạm Thị Dung" in out
    viewed = [r for r in _rows(tmp_path / "cli.db", InteractionLog)
              if r.kind == "identity_viewed"]
    assert len(viewed) == 1 and "Phạm Thị Dung" not in str(vars(viewed[0]))
    refused = [r for r in _rows(tmp_path / "cli.db", InteractionLog) if r.kind == "refused"]
    assert [(r.text, r.actor.endswith("as console:canbo")) for r in refused] == [
        (f"identity TC-{year}-000003", True)]  # the view tried before the role was granted

    code, out, err = shell(capsys, "petition", "status", f"KN-{year}-000002", "answered")
    assert code == 1 and "cannot go from received to answered" in err
    assert err.strip().count("\n") == 0
    code, out, err = shell(capsys, "petition", "status", f"KN-{year}-000002", "refused")
    assert code == 1 and "reason is required" in err
    code, out, err = shell(capsys, "petition", "status", f"KN-{year}-000002", "refused",
                           "--reason", "Không thuộc thẩm quyền của UBND xã")
    assert code == 0 and "refused" in out

    assert shell(capsys, "petition", "status", f"PA-{year}-000001", "accepted")[0] == 1
    assert shell(capsys, "petition", "status", f"PA-{year}-000001", "in_progress")[0] == 0
    code, out, err = shell(capsys, "petition", "answer", f"PA-{year}-000001", "--text",
                           "Đã sửa xong.")
    assert code == 0, err
    code, out, err = shell(capsys, "petition", "flag", f"PA-{year}-000001", "--complex")
    assert code == 0 and "complex=True" in out
    code, out, err = shell(capsys, "petition", "show", "PA-2000-000009")
    assert code == 1 and "no petition" in err

    notices = [m for m in _rows(tmp_path / "cli.db", OutboxMessage) if m.kind == "petition"]
    assert sorted(m.text.split("\n")[0] for m in notices) == sorted([
        f"Khiếu nại KN-{year}-000002 của Anh/Chị: Không thụ lý.",
        f"Phản ánh PA-{year}-000001 của Anh/Chị: Đang xử lý.",
        f"Phản ánh PA-{year}-000001 của Anh/Chị đã có trả lời của UBND xã:",
    ])
    statuses = {p.code: p.status for p in _rows(tmp_path / "cli.db", Petition)}
    assert statuses[f"PA-{year}-000001"] == "answered"
