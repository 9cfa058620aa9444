"""Dependencies point inward: flows, services and storage import no channel library."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("telegram", "aiohttp", "bot.handlers")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _offenders(folder: str, forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / folder).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(root)} imports {name}")
    return bad


def test_flows_services_and_storage_import_no_channel_library():
    for folder in ("bot/flows", "bot/services", "storage"):
        assert (ROOT / folder).is_dir()
        assert _offenders(folder, FORBIDDEN) == []


def test_storage_does_not_import_the_bot():
    assert _offenders("storage", ("bot",)) == []


def test_the_check_itself_finds_an_offender(tmp_path):
    (tmp_path / "bot" / "flows").mkdir(parents=True)
    bad = tmp_path / "bot" / "flows" / "bad.py"
    bad.write_text("import aiohttp.web\nfrom telegram import Bot\n")
    assert sorted(_offenders("bot/flows", FORBIDDEN, tmp_path)) == [
        "bot/flows/bad.py imports aiohttp.web", "bot/flows/bad.py imports telegram"]


# One clock (storage/clock.py): nothing else in the program reads the wall clock itself.
CLOCK_READS = re.compile(
    r"\b(?:datetime|date)\s*\.\s*(?:now|utcnow|today)\s*\(|\btime\s*\.\s*time\s*\(|\butcnow\s*\(")
CLOCK_MODULE = "storage/clock.py"


def _clock_reads(root: Path = ROOT) -> list[str]:
    bad = []
    for folder in ("bot", "storage"):
        for path in sorted((root / folder).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name == CLOCK_MODULE or "/migrations/" in name:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CLOCK_READS.search(line.split("#")[0]):
                    bad.append(f"{name}:{number}: {line.strip()}")
    return bad


def test_only_the_clock_reads_the_wall_clock():
    assert (ROOT / CLOCK_MODULE).is_file()
    assert _clock_reads() == []


def test_the_clock_check_itself_finds_each_kind_of_read(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "storage").mkdir()
    reads = ["datetime.now(UTC)", "datetime.utcnow()", "date.today()", "time.time()",
             "utcnow()", "datetime.today()"]
    (tmp_path / "bot" / "bad.py").write_text("\n".join(f"x = {r}" for r in reads) + "\n")
    (tmp_path / "storage" / "clock.py").write_text("x = datetime.now(UTC)\n")
    (tmp_path / "bot" / "fine.py").write_text("x = clock.now()\ny = time.monotonic()\n")
    assert [line.split(": ", 1)[1] for line in _clock_reads(tmp_path)] == [
        f"x = {r}" for r in reads]
