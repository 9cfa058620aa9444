"""What people type, read one way: phone numbers, days, times, ratings, hamlet names, labels."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import typed
from bot.flows.common import shorten
from bot.flows.hamlet_choice import find
from storage.models import Hamlet

TODAY = date(2026, 11, 25)
TZ = "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(("text", "stored"), [
    ("0912345678", "0912345678"),
    ("0912 345 678", "0912345678"),
    ("0912.345.678", "0912345678"),
    ("0912-345-678", "0912345678"),
    ("+84 912 345 678", "0912345678"),
    ("+84912345678", "0912345678"),
    ("84912345678", "0912345678"),
    ("(0205) 3820 000", "02053820000"),  # a landline: 11 digits
    ("(+84) 205 3820 000", "02053820000"),
    ("+1 202 555 0123", "+12025550123"),
])
def test_phone_numbers_accept_spaces_dots_brackets_and_the_country_code(text, stored):
    assert typed.phone(text) == stored


@pytest.mark.parametrize("text", [
    "", "abc", "12345", "091234567", "091234567890", "0912 345 67a", "ngày mai", "1900",
    "00912345678", "+0",
])
def test_what_is_not_a_phone_number(text):
    assert typed.phone(text) is None


@pytest.mark.parametrize(("text", "day"), [
    ("30/11/2026", date(2026, 11, 30)),
    ("30/11/26", date(2026, 11, 30)),  # two-digit years are 20yy
    ("30-11-26", date(2026, 11, 30)),
    ("30.11.2026", date(2026, 11, 30)),
    ("2026-11-30", date(2026, 11, 30)),
    ("ngày 30/11", date(2026, 11, 30)),  # this year
    ("5/1", date(2026, 1, 5)),
    (" 1/2/27 ", date(2027, 2, 1)),
])
def test_days_in_the_forms_people_type(text, day):
    assert typed.day(text, TODAY) == day


def test_a_day_without_a_year_can_mean_the_next_one():
    assert typed.day("5/1", TODAY, upcoming=True) == date(2027, 1, 5)
    assert typed.day("30/11", TODAY, upcoming=True) == date(2026, 11, 30)
    assert typed.day("24/11", TODAY, upcoming=True) == date(2027, 11, 24)


@pytest.mark.parametrize(("text", "day"), [  # TODAY is a Wednesday
    ("hôm nay", date(2026, 11, 25)), ("mai", date(2026, 11, 26)),
    ("Ngày mai", date(2026, 11, 26)), ("sáng mai 8h", date(2026, 11, 26)),
    ("ngày kia", date(2026, 11, 27)), ("ngày mốt", date(2026, 11, 27)),
    ("thứ Sáu", date(2026, 11, 27)), ("thu 6", date(2026, 11, 27)), ("T6", date(2026, 11, 27)),
    ("thứ Hai", date(2026, 11, 30)), ("thứ 2 tuần sau", date(2026, 11, 30)),
    ("thứ tư", date(2026, 11, 25)), ("thứ Tư này", date(2026, 11, 25)),
    ("thứ tư tới", date(2026, 12, 2)), ("thứ Sáu tuần tới", date(2026, 12, 4)),
    ("chủ nhật", date(2026, 11, 29)), ("CN tuần sau", date(2026, 12, 6)),
    ("tomorrow", date(2026, 11, 26)),
    ("30/11 (thứ Hai)", date(2026, 11, 30)),  # a date wins over a word
])
def test_days_said_in_words_count_from_today(text, day):
    assert typed.day(text, TODAY) == day
    assert typed.day(text) is None or "/" in text  # words need to know today


def test_a_day_in_words_and_a_time_make_a_moment():
    assert typed.moment("8 giờ sáng thứ Bảy", TZ, TODAY) == datetime(
        2026, 11, 28, 8, tzinfo=ZoneInfo(TZ))
    assert typed.moment("mai 14h", TZ, TODAY) == datetime(2026, 11, 26, 14, tzinfo=ZoneInfo(TZ))
    assert typed.moment("thứ 2 8h", TZ, TODAY) == datetime(2026, 11, 30, 8, tzinfo=ZoneInfo(TZ))


@pytest.mark.parametrize("text", ["", "31/11/2026", "30/13/26", "30/11/202", "123/4/26",
                                  "2026-11", "thứ 8", "một", "chủ tịch"])
def test_unreadable_days(text):
    assert typed.day(text, TODAY) is None


@pytest.mark.parametrize(("text", "at"), [
    ("08:00", time(8)), ("8:30", time(8, 30)), ("8h", time(8)), ("8h30", time(8, 30)),
    ("14g", time(14)), ("8 giờ sáng", time(8)), ("8 gio sang", time(8)),
    ("2 giờ chiều", time(14)), ("7 giờ 30 tối", time(19, 30)), ("20h", time(20)),
    ("12 giờ trưa", time(12)), ("chiều 2h", time(14)), ("chieu 2 gio", time(14)),
    ("tối 7h30", time(19, 30)), ("sáng 8h", time(8)), ("thứ 2 tới 7h", time(7)),
    ("thu 2 toi 7h", time(7)), ("tối mai 7h", time(19)), ("chiều CN lúc 2 giờ", time(14)),
    ("sáng thứ Bảy 8h", time(8)), ("chiều 20/11 3h", time(15)),
])
def test_times_of_day(text, at):
    assert typed.clock_time(text) == at


@pytest.mark.parametrize("text", ["", "sáng mai", "25h", "8:61"])
def test_unreadable_times(text):
    assert typed.clock_time(text) is None


def test_a_moment_is_a_day_and_a_time_in_either_order():
    at = datetime(2026, 11, 30, 8, tzinfo=ZoneInfo(TZ))
    for text in ("30/11/2026 08:00", "30/11/26 8h", "8 giờ sáng 30/11", "30/11 8h",
                 "2026-11-30 08:00"):
        assert typed.moment(text, TZ, TODAY) == at, text
    assert typed.moment("30/11/2026", TZ, TODAY) is None  # no time
    assert typed.moment("8h", TZ, TODAY) is None  # no day


@pytest.mark.parametrize(("text", "stars"), [
    ("5", 5), ("5 sao", 5), ("5 Sao", 5), ("4/5", 4), ("3 *", 3), ("⭐⭐⭐⭐", 4),
    ("rất hài lòng", 5), ("rat hai long", 5), ("Hài lòng", 4), ("không hài lòng", 1),
    ("1 sao.", 1),
])
def test_ratings(text, stars):
    assert typed.rating(text) == stars


@pytest.mark.parametrize("text", ["", "6", "0 sao", "10", "tạm biệt", "⭐⭐⭐⭐⭐⭐"])
def test_what_is_not_a_rating(text):
    assert typed.rating(text) is None


HAMLETS = [Hamlet(id=n, commune_id=1, code=f"h{n}", name=name, label=label)
           for n, (name, label) in enumerate([
               ("Khu Hòa Bình", "khu"), ("Khu Thống Nhất", "khu"), ("Khu Đồng Mỏ", "khu"),
               ("Khu Hoàng Văn Thụ", "khu"), ("Thôn Làng Hồng", "thôn"), ("Thôn Nà Ca", "thôn"),
               ("Thôn Bản Lải", "thôn"), ("Thôn Quán Sơn", "thôn"),
               ("Tổ dân phố 3", "tổ dân phố")], 1)]


@pytest.mark.parametrize(("text", "name"), [
    ("na ca", "Thôn Nà Ca"), ("Nà Ca", "Thôn Nà Ca"), ("thon na ca", "Thôn Nà Ca"),
    ("THÔN NÀ CA", "Thôn Nà Ca"), ("hoa binh", "Khu Hòa Bình"), ("ban lai", "Thôn Bản Lải"),
    ("lang hong", "Thôn Làng Hồng"), ("to dan pho 3", "Tổ dân phố 3"), ("3", "Tổ dân phố 3"),
])
def test_a_whole_hamlet_name_is_taken_without_its_label_or_accents(text, name):
    found = find(text, HAMLETS)
    assert found.sure and [h.name for h in found.hamlets] == [name]


@pytest.mark.parametrize(("text", "names"), [
    ("nà", ["Thôn Nà Ca"]),  # part of a name: confirm first
    ("hoang thu", ["Khu Hoàng Văn Thụ"]),
    ("na ka", ["Thôn Nà Ca"]),  # a near miss
    ("ho", ["Khu Hòa Bình", "Khu Hoàng Văn Thụ", "Thôn Làng Hồng"]),
])
def test_part_of_a_name_or_a_typo_is_offered_for_confirmation(text, names):
    found = find(text, HAMLETS)
    assert not found.sure and [h.name for h in found.hamlets] == names


@pytest.mark.parametrize("text", ["", "xin chào", "Hà Nội", "thôn"])
def test_text_that_names_no_hamlet(text):
    assert find(text, HAMLETS).hamlets == ()


def test_labels_are_cut_at_a_word_never_inside_one():
    title = "Kế hoạch mở rộng đường liên thôn Nà Ca – Bản Lải năm 2027"
    assert shorten(title, 32) == "Kế hoạch mở rộng đường liên…"
    assert shorten(title, 22) == "Kế hoạch mở rộng…"
    assert shorten("Ngắn gọn", 32) == "Ngắn gọn"
    assert shorten("Quyếtđịnhsố45khôngcódấucách", 10) == "Quyếtđịnh…"
    for limit in range(5, len(title) + 1):
        cut = shorten(title, limit)
        assert len(cut) <= limit
        assert title.startswith(cut.removesuffix("…")) and (
            cut == title or title[len(cut) - 1] == " "), cut
