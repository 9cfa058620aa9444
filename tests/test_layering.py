"""Dependencies point inward: flows, services and storage import no channel library."""

from __future__ import annotations

import ast
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
