"""The docs say only what is true: every command they show exists (its --help runs), the
settings table matches the Settings class, the README stays short and its links resolve."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.__main__ import parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted(p for p in (ROOT / "deploy").iterdir() if p.is_file())]
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`]+)`", re.S)
# "civicbot db upgrade", "python -m bot role grant"; not a path (/var/lib/civicbot) nor a file
COMMAND = re.compile(r"(?:(?<![\w/=.-])civicbot|python -m bot)"
                     r"((?:[ \t]*\n?[ \t]+[a-z][a-z0-9-]*(?![\w.]))+)")
GUIDES = ("operator-guide.md", "staff-guide.vi.md", "resident-guide.vi.md", "architecture.md",
          "benchmarks.md", "features.md")


def _code(text: str) -> str:
    """What a page shows as code: fenced blocks, inline spans; a deploy file is all code."""
    return "\n".join(a or b for a, b in CODE.findall(text))


def commands_shown() -> dict[tuple[str, ...], str]:
    """Each command path (e.g. ("group", "link")) shown in code, with a page naming it."""
    found: dict[tuple[str, ...], str] = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        code = text if page.parent.name == "deploy" else _code(text)
        for match in COMMAND.finditer(code):
            words = tuple(match.group(1).split())
            found.setdefault(_command_path(words), page.name)
    return found


def _command_path(words: tuple[str, ...]) -> tuple[str, ...]:
    """The longest prefix of `words` that names subcommands ("civicbot db upgrade" -> db)."""
    path: list[str] = []
    current = parser()
    for word in words:
        sub = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)),
                   None)
        if sub is None or word not in sub.choices:
            break
        path.append(word)
        current = sub.choices[word]
    return tuple(path) or words[:1]


def test_the_docs_name_the_commands_an_operator_uses():
    shown = commands_shown()
    for expected in [("run",), ("chat",), ("init",), ("backup",), ("restore",), ("doctor",),
                     ("db",), ("log", "verify"), ("role",), ("group", "link")]:
        assert expected in shown, expected


@pytest.mark.parametrize("command", sorted(commands_shown()), ids=" ".join)
def test_every_command_in_the_docs_has_a_working_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        parser().parse_args([*command, "--help"])
    assert done.value.code == 0, f"`civicbot {' '.join(command)}` does not exist"
    assert "usage: civicbot" in capsys.readouterr().out


def test_a_command_that_does_not_exist_is_caught():
    assert _command_path(("frobnicate", "now")) == ("frobnicate",)
    with pytest.raises(SystemExit) as done:
        parser().parse_args(["frobnicate", "--help"])
    assert done.value.code != 0


def test_the_settings_table_lists_exactly_the_settings():
    guide = (ROOT / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    table = guide.split("## Configure", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 8 * 1024
    assert "make run" in readme and "make test" in readme
    links = re.findall(r"\]\(([^)#]+)|src=\"([^\"]+)\"", readme)
    targets = {a or b for a, b in links}
    assert {f"docs/{name}" for name in GUIDES} <= targets
    for target in targets:
        assert (ROOT / target).exists(), target


def test_the_guides_link_each_other_correctly():
    for page in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([a-z][\w.-]*\.(?:md|png))", page.read_text("utf-8")):
            assert (ROOT / "docs" / target).exists(), f"{page.name} -> {target}"


def test_the_staff_and_resident_guides_ask_for_no_shell_command():
    for name in ("staff-guide.vi.md", "resident-guide.vi.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert not COMMAND.search(text) and "make " not in text and ".venv" not in text
        assert "Anh/Chị" in text and " bot " not in text.replace("**", "")
