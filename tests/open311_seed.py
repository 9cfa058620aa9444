"""Seeded petitions for the Open311 tests, and every piece of personal data in them (names,
phones, addresses, channel ids, photo references, exact places, private contents)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.services import petitions as service
from bot.services import roles
from bot.services.petition_intake import Identity, Intake, submit
from storage.db import Database
from storage.models import Petition
from storage.repositories import Communes, Hamlets, Users

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 on a Wednesday in Hà Nội
PUBLIC_TEXT = "Đèn đường trước nhà văn hóa khu bị hỏng đã hai tuần."
PUBLIC_ANSWER = "UBND xã đã thay bóng đèn mới ngày 24/11."
OLD_TEXT = "Rãnh thoát nước đầu khu bị tắc sau mưa lớn tháng tám."

# Personal data that must never leave the bot through the API.
PEOPLE = (  # channel, channel id, display name, phone
    ("telegram", "700100123", "Nguyễn Văn Thành", "0912 345 678"),
    ("zalo", "zl-5581a9f3c2", "Trần Thị Bích Hồng", "0987 654 321"),
    ("telegram", "700100456", "Hoàng Minh Khôi", "0903 111 222"),
)
ANONYMOUS_TEXT = "Xin giấu tên: quán karaoke cạnh chợ mở quá nửa đêm mỗi ngày."
COMPLAINT_TEXT = "Khiếu nại quyết định thu hồi đất thửa số 118 tờ bản đồ 23."
DENUNCIATION_TEXT = "Tố cáo cán bộ địa chính nhận tiền khi làm hồ sơ đất."
COMPLAINANT = Identity("Lương Văn Thắng", "Số 5 đường Bắc Sơn, tổ 3", "0945 222 333")
DENOUNCER = Identity("Phạm Thị Dung", "Số 9 phố Ga Đồng Mỏ", "0977 000 111")
HOME_ADDRESS = "Số 17 ngõ Trúc Lâm, tổ 4"
PHOTO_REF = "AgACAgUAAxkBAAIBcmVzZWVk-photo-ref"
PLACE = (21.851234, 106.612345)
STAFF = ("telegram", "800900777", "Chị Nông Thị Lan")
PERSONAL = (
    [p[1] for p in PEOPLE] + [p[2] for p in PEOPLE] + [p[3] for p in PEOPLE]
    + [p[3].replace(" ", "") for p in PEOPLE]
    + [ANONYMOUS_TEXT, COMPLAINT_TEXT, DENUNCIATION_TEXT, HOME_ADDRESS, PHOTO_REF]
    + [COMPLAINANT.full_name, COMPLAINANT.address, COMPLAINANT.phone or "",
       DENOUNCER.full_name, DENOUNCER.address, DENOUNCER.phone or ""]
    + [str(PLACE[0]), str(PLACE[1]), "21.85", "106.61", STAFF[1], STAFF[2]]
)


@dataclass
class Seeded:
    """The codes of the seeded petitions."""

    public: str
    anonymous: str
    complaint: str
    denunciation: str
    old: str


async def seed(db: Database) -> Seeded:
    """Five petitions on the demo commune (loaded by the caller): a public feedback with a
    photo, an exact place and a home address, answered; an anonymous feedback; a complaint
    and a denunciation with their identities; a feedback of 100 days ago, still open."""
    async with db.session() as session:
        settings = service.Settings.of(await Communes(session).current())
        khu2, khu3 = (await Hamlets(session).by_code("khu-2"), await Hamlets(session)
                      .by_code("khu-3"))
        users = []
        for channel, external, name, phone in PEOPLE:
            user = await Users(session).get_or_create(channel, external, "vi")
            user.display_name, user.phone, user.hamlet_id = name, phone, khu2.id
            session.add(user)
            users.append(user)
        await roles.grant(session, STAFF[0], STAFF[1], "staff", actor="test", name=STAFF[2])

        async def file(intake: Intake, user, when: datetime) -> Petition:
            return await submit(session, intake, user, now=when, timezone=TZ,
                                settings=settings)

        old = await file(Intake("feedback", "environment", OLD_TEXT, hamlet_id=khu3.id),
                         users[0], NOW - timedelta(days=100))
        public = await file(Intake(
            "feedback", "lighting", PUBLIC_TEXT, hamlet_id=khu2.id, latitude=PLACE[0],
            longitude=PLACE[1], address=HOME_ADDRESS,
            attachments=[{"kind": "photo", "ref": PHOTO_REF, "channel": "telegram"}]),
            users[0], NOW - timedelta(days=3))
        await service.answer(session, public, PUBLIC_ANSWER, actor="telegram:800900777",
                             now=NOW - timedelta(days=1), timezone=TZ)
        anonymous = await file(Intake("feedback", "security", ANONYMOUS_TEXT,
                                      hamlet_id=khu3.id, anonymous=True),
                               users[1], NOW - timedelta(days=2))
        complaint = await file(Intake("complaint", "land", COMPLAINT_TEXT, hamlet_id=khu2.id,
                                      identity=COMPLAINANT), users[2], NOW - timedelta(days=2))
        denunciation = await file(Intake("denunciation", "land", DENUNCIATION_TEXT,
                                         hamlet_id=khu2.id, identity=DENOUNCER),
                                  users[2], NOW - timedelta(days=1))
        await session.commit()
        return Seeded(public.code, anonymous.code, complaint.code, denunciation.code,
                      old.code)
