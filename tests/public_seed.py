"""A year of the demo commune's record for the public page's tests and bench: residents with
names, phones and channel ids, petitions of every kind month by month (answered, late,
rated, anonymous), complaints with the filer's identity, disclosures, dialogue sessions
held and to come with registrations. `personal_data` lists everything that must never
appear on a public page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.services import commune_setup, demo, petition_intake, petitions
from bot.services.petition_statuses import COMPLAINT, DENUNCIATION, FEEDBACK, IN_PROGRESS
from storage.db import Database
from storage.models import (
    DialogueSession,
    Hamlet,
    Petition,
    PetitionIdentity,
    SessionRegistration,
    User,
)
from storage.repositories import Communes

TZ = "Asia/Ho_Chi_Minh"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Wednesday 25/11/2026, 10:00 in Hà Nội
FIELDS = ("roads", "lighting", "environment", "land", "social", "security")
NAMES = ("Hoàng Thị Mai Phương", "Lý Văn Khải", "Đinh Ngọc Quỳnh", "Vi Văn Thắng",
         "Nông Thị Hạnh", "Triệu Đức Long", "Lăng Thị Bích", "Hà Minh Tuệ")


async def seed_year(db: Database, *, per_month: int = 6, now: datetime = NOW) -> None:
    """Load the demo commune and a year of activity up to `now` (January to now's month)."""
    async with db.session() as session:
        await commune_setup.apply(session, commune_setup.read(commune_setup.DEMO_FILE), "seed")
        await session.commit()
    async with db.session() as session:
        commune = await Communes(session).current()
        settings = petitions.Settings.of(commune)
        hamlets = (await session.exec(select(Hamlet).order_by(Hamlet.position))).all()
        users = []
        for number, name in enumerate(NAMES):
            user = User(channel=("telegram", "zalo")[number % 2],
                        external_id=f"77{number:02d}0{number}981{number}",
                        display_name=name, phone=f"09{number}8 77{number} 5{number}3",
                        hamlet_id=hamlets[number % len(hamlets)].id, onboarded_at=now)
            session.add(user)
            users.append(user)
        await session.flush()
        count, local = 0, now.astimezone(ZoneInfo(TZ))
        for month in range(1, local.month + 1):
            for day in range(per_month):
                moment = datetime(local.year, month, 1 + day * 27 // per_month, 2, day % 60,
                                  tzinfo=UTC)
                if moment >= now - timedelta(days=1):
                    continue
                count += 1
                user = users[count % len(users)]
                kind = (FEEDBACK, FEEDBACK, FEEDBACK, COMPLAINT, FEEDBACK, DENUNCIATION)[day % 6]
                identity = (petition_intake.Identity(
                    user.display_name or "", f"Số {count} ngõ {month} phố Kỳ Lừa {count}",
                    user.phone) if kind != FEEDBACK else None)
                intake = petition_intake.Intake(
                    kind=kind, field=FIELDS[count % len(FIELDS)],
                    description=f"Nội dung riêng số {count}: {user.display_name} báo việc "
                                f"ở nhà số {count}.",
                    hamlet_id=hamlets[count % len(hamlets)].id if count % 7 else None,
                    address=f"Trước nhà {user.display_name}, số {count} đường Bắc Sơn",
                    anonymous=kind == FEEDBACK and count % 5 == 0, identity=identity)
                petition = await petition_intake.submit(
                    session, intake, user, now=moment, timezone=TZ, settings=settings)
                if kind == FEEDBACK and count % 4 != 3:
                    late = count % 9 == 0
                    answered_at = moment + timedelta(days=(20 if late else 2 + count % 5))
                    if answered_at < now:
                        await petitions.answer(
                            session, petition, f"UBND xã đã xử lý phản ánh {petition.code}; "
                            f"cán bộ đã gọi lại số {user.phone} để báo.",
                            actor="staff", now=answered_at, timezone=TZ)
                        if count % 3:
                            await petitions.rate(session, petition, user, 3 + count % 3,
                                                 now=answered_at + timedelta(hours=2))
                elif kind == FEEDBACK:
                    await petitions.change_status(
                        session, petition, IN_PROGRESS, actor="staff",
                        now=moment + timedelta(hours=3), timezone=TZ, settings=settings)
        await demo.load_disclosures(session, now=now, timezone=TZ, actor="seed")
        held = DialogueSession(
            topic="Đối thoại về nước sạch", leaders=["Chủ tịch UBND xã"], place="Hội trường",
            capacity=40, starts_at=datetime(local.year, 6, 10, 1, tzinfo=UTC),
            outcome="UBND xã cam kết lắp đường ống nước cho Thôn Nà Ca trong quý III.",
            outcome_at=datetime(local.year, 6, 12, 1, tzinfo=UTC), status="closed")
        coming = DialogueSession(
            topic="Đối thoại về đường liên thôn", leaders=["Chủ tịch UBND xã"],
            place="Nhà văn hóa Khu Hòa Bình", capacity=30,
            starts_at=now + timedelta(days=9))
        session.add_all([held, coming])
        await session.flush()
        for number, user in enumerate(users):
            target = held if number % 2 else coming
            session.add(SessionRegistration(
                session_id=target.id, user_id=user.id, name=user.display_name or "",
                hamlet_id=user.hamlet_id, phone=user.phone, ticket=f"T{number:03d}",
                position=number))
        await session.commit()


async def personal_data(db: Database) -> set[str]:
    """Every name, phone, address, channel id and private text in the seeded data."""
    found: set[str] = set()
    async with db.session() as session:
        for user in (await session.exec(select(User))).all():
            found |= {user.external_id, user.display_name or "", user.phone or ""}
        for petition in (await session.exec(select(Petition))).all():
            found |= {petition.description, petition.address or ""}
        for identity in (await session.exec(select(PetitionIdentity))).all():
            found |= {identity.full_name, identity.address, identity.phone or ""}
        for row in (await session.exec(select(SessionRegistration))).all():
            found |= {row.name, row.phone or ""}
    return {text for text in found if text}
