"""The Vietnamese catalog keeps to docs/glossary.md: one word per thing, the assistant is
"trợ lý" and says "Anh/Chị", resident text never says "hội nghị", and everything fits a
phone screen (labels ≤ 32 characters, messages ≤ 500)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"  # the .po catalogs (compiled into bot/locales)
GLOSSARY = ROOT / "docs" / "glossary.md"
LABEL_LIMIT = 32
MESSAGE_LIMIT = 500
LONG_READS = {  # msgid start -> limit: long texts people open on purpose
    "How your personal data is handled": 1000,  # "Xem chi tiết"
    "I am the automated assistant of {committee}.": 700,  # the guide: "Trợ giúp", /help
}
STAFF_MODULES = {
    "cli_disclosures.py", "flows/accountability_staff.py", "flows/admin_staff.py",
    "flows/notice_history.py", "flows/notices.py", "flows/petition_desk.py",
    "flows/petition_drafts.py", "flows/petition_staff.py", "flows/publish.py",
    "flows/relays.py", "flows/session_announce.py", "flows/session_desk.py",
    "services/broadcast_audience.py", "services/broadcasts.py", "services/exports.py",
    "services/petition_cards.py", "services/relays.py", "services/yearly_workbook.py",
}
STAFF_MSGIDS = {  # staff text living in modules residents also reach
    "Commands for commune staff:",
    "Dialogue sessions (staff)",
    "Petitions to handle",
    "Publish information",
    "Send a notice",
    "Dialogue session #{id}",
    "The session falls on a Saturday or Sunday",
    "The session falls on a public holiday",
    "The session is announced less than 7 days ahead",
    "The session starts at night",
}
RESIDENT_VOICE = {"Tôi", "tôi"}  # allowed in labels only: "Phản ánh của tôi", "Tôi ở nơi khác"


def _rows() -> list[tuple[str, str, str, list[str]]]:
    """(Vietnamese, English, where, avoid) per row of the glossary's table of terms."""
    rows = []
    for line in GLOSSARY.read_text().split("## Terms", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Vietnamese", "---"):
            continue
        avoid = [] if cells[3] == "—" else [w.strip() for w in cells[3].split(",")]
        rows.append((cells[0], cells[1], cells[2], avoid))
    return rows


def _uses() -> dict[str, set[str]]:
    """msgid -> the files (under bot/) that use it."""
    where: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "bot"), method_map=[("**.py", "python")]):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            where.setdefault(msgid, set()).add(filename)
    return where


def _labels() -> set[str]:
    """msgids written as Button(ctx._("…")), Request(kind, ctx._("…")) or in an N_() table
    (menus, ratings, statuses)."""
    labels = set()
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            name = getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
            if name in ("Button", "Request"):  # Button(label, payload), Request(kind, label)
                first = node.args[name == "Request"] if len(node.args) > 1 else None
                if isinstance(first, ast.Call) and first.args and isinstance(
                        first.args[0], ast.Constant) and isinstance(first.args[0].value, str):
                    labels.add(first.args[0].value)
            if isinstance(node, (ast.Tuple, ast.Dict, ast.List)):
                for child in ast.iter_child_nodes(node):
                    if (isinstance(child, ast.Call) and getattr(child.func, "id", None) == "N_"
                            and isinstance(child.args[0], ast.Constant)):
                        labels.add(child.args[0].value)
    return labels


def _staff(msgid: str, files: set[str]) -> bool:
    return files <= STAFF_MODULES or any(msgid.startswith(s) for s in STAFF_MSGIDS)


@pytest.fixture(scope="module")
def catalog() -> dict[str, str]:
    with open(LOCALES_DIR / "vi" / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0]:
                m.string if isinstance(m.string, str) else m.string[0]
                for m in read_po(f) if m.id}


@pytest.fixture(scope="module")
def resident(catalog: dict[str, str]) -> dict[str, str]:
    """The resident-facing part of the Vietnamese catalog."""
    uses = _uses()
    return {msgid: text for msgid, text in catalog.items()
            if msgid in uses and not _staff(msgid, uses[msgid])}


def _words(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def _unquoted(text: str) -> str:
    """The text without the button words it quotes: “Xóa dữ liệu của tôi” is the label's."""
    return re.sub(r"“[^”]*”", "“”", text)


def test_the_glossary_names_the_terms_to_keep_and_to_avoid():
    rows = _rows()
    assert len(rows) >= 20
    avoided = {w for *_, avoid in rows for w in avoid}
    assert {"bot", "Tôi", "Quý vị", "hội nghị", "mới nhất trước", "xếp hàng"} <= avoided


def test_resident_text_avoids_the_words_the_glossary_avoids(resident: dict[str, str]):
    labels = _labels()
    found = []
    for vietnamese, _english, _where, avoid in _rows():
        for word in avoid:
            for msgid, text in resident.items():
                if word in RESIDENT_VOICE and msgid in labels:
                    continue
                if _words(_unquoted(text) if word in RESIDENT_VOICE else text, word):
                    found.append(f"{word!r} (use {vietnamese!r}) in {text[:70]!r}")
    assert found == []


def _names(english: str, msgid: str) -> bool:
    """Whether `msgid` names the glossary's `english` term: a label (capitalised) exactly,
    a term as whole words outside placeholders ("{hamlet}" is not the word)."""
    if english[0].isupper():
        return msgid == english
    return _words(re.sub(r"\{\w*\}", " ", msgid), english)


def test_resident_text_uses_the_glossary_term_for_each_thing(resident: dict[str, str]):
    missing = []
    for vietnamese, english, _where, _avoid in _rows():
        if english == "—" or "…" in english or " / " in english:
            continue
        term = vietnamese.split(" (")[0].lower()
        for msgid, text in resident.items():
            if _names(english, msgid) and term not in text.lower():
                missing.append(f"{english!r} -> {vietnamese!r} in {text[:70]!r}")
    assert missing == []


def test_the_assistant_never_says_i_and_says_anh_chi(resident: dict[str, str]):
    labels = _labels()
    for msgid, text in resident.items():
        if msgid in labels:
            continue
        said = _unquoted(text)
        assert not _words(said, "Tôi") and not _words(said, "tôi"), text[:80]
        if _words(msgid, "you") or _words(msgid, "You") or _words(msgid, "your"):
            assert "Anh/Chị" in text or not re.search(r"(?<!\w)(bạn|Bạn|em|Em)(?!\w)", text), (
                text[:80])


def test_every_label_fits_a_phone_button(catalog: dict[str, str]):
    labels = _labels()
    assert {"I agree", "Show details", "Main menu", "5 – Very satisfied",
            "📍 Send current location", "My petitions"} <= labels
    too_long = {catalog[m]: len(catalog[m]) for m in labels
                if m in catalog and len(catalog[m].format_map(_Names())) > LABEL_LIMIT}
    assert too_long == {}


def test_every_resident_message_fits_a_phone_screen(resident: dict[str, str]):
    too_long = {}
    for msgid, text in resident.items():
        limit = next((n for start, n in LONG_READS.items() if msgid.startswith(start)),
                     MESSAGE_LIMIT)
        if len(text) > limit:
            too_long[msgid[:60]] = len(text)
    assert too_long == {}
    assert any(m.startswith("How your personal data is handled") for m in resident)


class _Names(dict):
    """Placeholders count as written: "{hamlet}" is 8 characters."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
