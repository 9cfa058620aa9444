"""The log CSV's ADBC driver carries its own copy of SQLite; inside the bot's process it would
share the database file with the bot's SQLite and could drop its locks (SQLite's warning about
two copies of the library in one process). Exported from the staff chat, the bot keeps working."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import Clock
from tests.test_staff_notices import STAFF_GROUP, _posted, staff_group  # noqa: F401


async def test_a_log_export_from_the_chat_then_a_report_and_more_turns_all_work(
        demo_db, staff_group):  # noqa: F811
    Clock(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    engine, staff = staff_group
    for _ in range(2):
        await staff.send("/export log 01/12/2026 05/12/2026", chat_id=STAFF_GROUP)
        await engine.drain()
        await staff.send("/report 2026", chat_id=STAFF_GROUP)
        await engine.drain()
    posted = [row.text for row in await _posted(demo_db)]
    assert sum("Báo cáo năm 2026" in text for text in posted) == 2, posted
    assert not any("trục trặc" in text or "lỗi" in text for text in posted), posted
    await staff.send("/petitions", chat_id=STAFF_GROUP)
    assert "trục trặc" not in staff.text
