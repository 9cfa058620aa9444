"""Search latency over many generated disclosures (realistic Vietnamese titles and bodies).

Generates COUNT disclosures from a vocabulary of real administrative words plus generated
Vietnamese syllables (at least 2,000 distinct words), loads them into a fresh database
through the migrations (so the real search index is used), then times QUERIES searches as
residents type them: one to three words, half of them without diacritics. Run by hand:

    .venv/bin/python bench/disclosure_search.py --count 50000
    .venv/bin/python bench/disclosure_search.py --count 50000 --database-url postgresql://postgres@127.0.0.1:5432/test

Prints p50/p95/p99 in milliseconds; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bot.textfold import fold  # noqa: E402
from storage.db import Database, async_database_url  # noqa: E402
from storage.models import Disclosure  # noqa: E402
from storage.repositories import Disclosures  # noqa: E402

# Words that commune documents are made of (each a syllable, as Vietnamese is written).
COMMON = """ủy ban nhân dân xã thôn khu phường tổ dân phố hộ gia đình ngân sách dự toán quyết
toán thu chi kế hoạch phát triển kinh tế văn hóa giáo dục y tế đường giao thông nông thôn
xây dựng công trình dự án đất đai thu hồi bồi thường hỗ trợ tái định cư quy hoạch chi tiết
phân khu chung hộ nghèo cận nghèo chính sách bảo hiểm xã hội người cao tuổi trẻ em học sinh
trường mầm non tiểu học trung cơ sở nhà văn hóa chợ nước sạch điện chiếu sáng môi trường rác
thải thu gom vệ sinh an toàn thực phẩm an ninh trật tự công an quân sự nghĩa vụ nhập ngũ
tạm hoãn miễn danh sách kết quả bình xét công khai niêm yết lấy ý kiến góp ý tiếp thu giải
trình hội nghị đối thoại tiếp công dân khiếu nại tố cáo phản ánh kiến nghị thủ tục hành
chính chứng thực hộ tịch khai sinh kết hôn khai tử phí lệ phí mức thu quỹ đóng góp tài trợ
tài sản công thanh lý mua sắm sửa chữa thiên tai bão lũ lụt hạn hán dịch bệnh quyên góp
cứu trợ thanh tra kiểm tra kỷ luật cán bộ công chức tín nhiệm phiếu bầu hội đồng kỳ họp
quý năm tháng ngày đợt lần thứ nhất hai ba bốn năm sáu bảy tám chín mười triệu nghìn đồng
tỷ lệ phần trăm diện tích héc ta mét ki lô tuyến mặt rộng dài cầu cống kênh mương thủy lợi
lúa ngô sắn chè hồi quế na cây trồng vật nuôi chăn nuôi trồng trọt sản xuất hợp tác tín
dụng vay vốn việc làm đào tạo nghề lao động thương binh liệt sĩ người có công gia đình
chính sách nhà ở tạm dột nát mới cũ tăng giảm đạt vượt chưa hoàn thành thực hiện triển
khai ban hành phê duyệt điều chỉnh bổ sung theo quy định luật nghị định thông tư quyết
định chỉ thị hướng dẫn báo cáo tổng hợp thông báo giấy mời lịch làm việc trụ sở bộ phận
một cửa tiếp nhận trả kết quả trực tuyến cổng dịch vụ quốc gia căn cước định danh số""".split()  # noqa: SIM905  (prose reads better)

ONSETS = ["b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "p",
          "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"]
RHYMES = ["a", "ai", "am", "an", "ang", "anh", "ao", "at", "ay", "e", "em", "en", "eo", "i",
          "im", "in", "inh", "it", "o", "oi", "om", "on", "ong", "ot", "u", "ui", "um", "un",
          "ung", "ut", "ưa", "ưng", "ươn", "ương", "ươi", "iên", "iêu", "uân", "uyên", "ôi"]
TONES = {"a": "aàáảãạ", "e": "eèéẻẽẹ", "i": "iìíỉĩị", "o": "oòóỏõọ", "u": "uùúủũụ",
         "ư": "ưừứửữự", "ê": "êềếểễệ", "ô": "ôồốổỗộ", "ơ": "ơờớởỡợ", "â": "âầấẩẫậ"}


def _with_tone(syllable: str, tone: int) -> str:
    """Put the tone mark where Vietnamese puts it: on the last vowel with a hat or horn
    (ê, ô, ơ, â, ư), else on the first vowel."""
    if not tone:
        return syllable
    marked = [i for i, char in enumerate(syllable) if char in "êôơâư"]
    plain = [i for i, char in enumerate(syllable) if char in TONES]
    index = marked[-1] if marked else plain[0] if plain else None
    if index is None:
        return syllable
    return syllable[:index] + TONES[syllable[index]][tone] + syllable[index + 1:]


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """COMMON words first, then generated syllables, `size` distinct words in all."""
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < size:
        word = _with_tone(rng.choice(ONSETS) + rng.choice(RHYMES), rng.randrange(6))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def corpus(count: int, seed: int = 7, vocabulary_size: int = 3000):
    """Yield (category, title, body, days ago) for `count` disclosures; Zipf-like word use."""
    rng = random.Random(seed)
    words = vocabulary(vocabulary_size, rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]

    def sentence(length: int) -> str:
        return " ".join(rng.choices(words, weights, k=length))

    for _ in range(count):
        title = sentence(rng.randint(6, 14)).capitalize()
        body = ". ".join(sentence(rng.randint(8, 20)).capitalize()
                         for _ in range(rng.randint(3, 8))) + "."
        yield rng.randint(1, 14), title, body, rng.randint(0, 720)


def queries(count: int, seed: int = 11, vocabulary_size: int = 3000) -> list[str]:
    """What residents type: 1-3 words of the vocabulary, half of them without accents."""
    rng = random.Random(seed)
    words = vocabulary(vocabulary_size, random.Random(7))
    weights = [1 / (rank + 1) ** 0.5 for rank in range(len(words))]
    typed = []
    for _ in range(count):
        text = " ".join(rng.choices(words, weights, k=rng.choice((1, 2, 2, 3))))
        typed.append(fold(text) if rng.random() < 0.5 else text)
    return typed


async def load(db: Database, count: int) -> None:
    """Insert the generated disclosures in batches (the triggers index them)."""
    now = datetime.now(UTC)
    batch: list[dict] = []
    async with db.engine.begin() as conn:
        for category, title, body, days_ago in corpus(count):
            posted = now - timedelta(days=days_ago)
            batch.append({
                "category": category, "title": title[:300], "body": body,
                "search_title": fold(title)[:300], "search_body": fold(body),
                "posted_from": posted, "posted_until": posted + timedelta(days=30),
                "version": 1, "created_by": "bench", "created_at": now, "updated_at": now,
            })
            if len(batch) == 2000:
                await conn.execute(sa.insert(Disclosure), batch)
                batch.clear()
        if batch:
            await conn.execute(sa.insert(Disclosure), batch)
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("ANALYZE disclosures"))


async def run(count: int, query_count: int, database_url: str | None) -> dict[str, float]:
    """Run the benchmark; returns the figures it prints."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(async_database_url(database_url or f"sqlite:///{tmp}/bench.db"))
        await db.drop_all()
        await db.upgrade()
        started = time.perf_counter()
        await load(db, count)
        load_seconds = time.perf_counter() - started
        latencies, hits = [], 0
        now = datetime.now(UTC)
        async with db.session() as session:
            repo = Disclosures(session)
            for text in queries(query_count):
                began = time.perf_counter()
                found = await repo.search(text, now, limit=6)
                latencies.append((time.perf_counter() - began) * 1000)
                hits += bool(found)
        await db.drop_all()
        await db.dispose()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"disclosures": count, "queries": query_count, "load_s": round(load_seconds, 1),
            "with_results": hits, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(latencies), 2)}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Parse arguments, run, print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.count, args.queries, args.database_url))
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return result


if __name__ == "__main__":
    main()
