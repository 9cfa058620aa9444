"""The wheel works wherever it is installed: built from a copy of the sources (without any
compiled catalog), installed into a fresh virtual environment outside the repository, then
used from empty folders: init on the packaged demo, a chat in Vietnamese, backup, restore,
log verify, and the restored bot answering the same resident.

The new environment sees the project's installed dependencies through a .pth line (so nothing
is downloaded); the project's own editable install is not visible there, only the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "storage", "locales", "setup.py", "pyproject.toml", "MANIFEST.in",
           "README.md", "babel.cfg")


def _build_wheel(tmp: Path) -> Path:
    source = tmp / "src"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.mo", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp / "dist")],
                   cwd=source, check=True, capture_output=True)
    return next((tmp / "dist").glob("civicbot-*.whl"))


def _venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path("
         "'purelib'))"], check=True, capture_output=True, text=True).stdout.strip())
    # The project's dependencies, after the venv's own site-packages; a .pth inside that
    # folder (the editable install's finder) is not run, so `bot` comes from the wheel only.
    (site / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    return venv


def _civicbot(venv: Path, folder: Path, *args: str, stdin: str = ""
              ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(
        ("TELEGRAM_", "ZALO_", "DATABASE_URL", "PSEUDONYM", "DATA_DIR", "PYTHON", "BACKUP_"))}
    folder.mkdir(exist_ok=True)
    return subprocess.run([str(venv / "bin" / "civicbot"), *args], input=stdin, text=True,
                          capture_output=True, cwd=folder, env=env, timeout=120, check=False)


def test_the_wheel_installed_elsewhere_inits_chats_backs_up_and_restores(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for inside in ("bot/locales/vi/LC_MESSAGES/messages.mo", "bot/demo_data/commune.toml",
                   "bot/demo_data/disclosures.toml", "storage/migrations/env.py",
                   "storage/migrations/script.py.mako",
                   "storage/migrations/versions/0001_core_tables.py"):
        assert inside in names
    venv = _venv(tmp_path, wheel)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert where.stdout.startswith(str(venv))

    office = tmp_path / "office"
    done = _civicbot(venv, office, "init", "--demo")
    assert done.returncode == 0, done.stderr
    assert "Xã Chi Lăng: 8 hamlets" in done.stdout
    chat = _civicbot(venv, office, "chat", "--user", "ba-lan", stdin="/start\nđồng ý\n2\n")
    assert chat.returncode == 0, chat.stderr
    assert "Xin chào Anh/Chị! Đây là trợ lý tự động của UBND xã Chi Lăng" in chat.stdout
    assert "Đã ghi nhận Anh/Chị ở Khu Thống Nhất" in chat.stdout

    archive = tmp_path / "backup.tar.gz"
    done = _civicbot(venv, office, "backup", "-o", str(archive))
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    done = _civicbot(venv, elsewhere, "restore", str(archive))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "the interaction log is intact" in done.stdout
    assert (elsewhere / "data" / "pseudonym.key").read_text() == (
        office / "data" / "pseudonym.key").read_text()
    again = _civicbot(venv, elsewhere, "restore", str(archive))
    assert again.returncode == 1 and "--force" in again.stderr

    answer = _civicbot(venv, elsewhere, "chat", "--user", "ba-lan", stdin="menu\n")
    assert answer.returncode == 0, answer.stderr
    assert "Công khai thông tin" in answer.stdout and "Đồng ý" not in answer.stdout
