"""Retake docs/conversation.png, the README's picture of a conversation: a scripted console chat
on the demo commune, drawn as chat bubbles and shot in headless chromium. Run by hand after
changing the wording: `.venv/bin/python docs/conversation.py`."""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ["xin chào", "Đồng ý", "Khu Thống Nhất"]
CSS = """
body { margin: 0; background: #dfe7ee; font: 15px/1.4 system-ui, sans-serif; }
.phone { width: 400px; margin: 0 auto; padding: 12px 10px 18px; }
.top { background: #2b6cb0; color: #fff; padding: 10px 14px; font-weight: 600;
       margin: -12px -10px 12px; }
.msg { max-width: 82%; padding: 8px 11px; border-radius: 12px; margin: 6px 0;
       white-space: pre-wrap; box-shadow: 0 1px 1px #0002; }
.bot { background: #fff; }
.me { background: #d6f5c8; margin-left: auto; }
.buttons { display: grid; gap: 4px; margin: 2px 0 10px; max-width: 82%; }
.buttons span { background: #ffffffcc; border-radius: 8px; text-align: center; padding: 6px;
                color: #2b6cb0; font-weight: 500; }
"""


def transcript() -> str:
    """The console chat's output for SCRIPT on a fresh demo database."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TELEGRAM_", "ZALO_", "DATABASE_URL", "DATA_DIR"))}
        env |= {"DATABASE_URL": f"sqlite:///{tmp}/c.db", "DATA_DIR": f"{tmp}/data"}
        done = subprocess.run([sys.executable, "-m", "bot", "chat", "--user", "lan"],
                              input="\n".join(SCRIPT) + "\n", text=True, capture_output=True,
                              cwd=ROOT, env=env, check=True)
    return done.stdout


def to_html(output: str) -> str:
    """Bubbles: "> text" lines are the resident, numbered lines are buttons."""
    parts = ['<div class="phone"><div class="top">Trợ lý UBND xã Chi Lăng</div>']
    for block in ("\n" + output).split("\n> ")[1:]:
        said, _, answer = block.partition("\n")
        parts.append(f'<div class="msg me">{html.escape(said)}</div>')
        text, buttons = [], []
        for line in answer.strip("\n").splitlines():
            item = line.strip()
            if line.startswith("  ") and item[:1].isdigit() and ". " in item:
                buttons.append(item.split(". ", 1)[1])
            else:
                if buttons:  # a new message after a button list
                    parts.append(_message(text, buttons))
                    text, buttons = [], []
                text.append(line)
        parts.append(_message(text, buttons))
    return f"<html><head><meta charset='utf-8'><style>{CSS}</style></head><body>" \
           + "".join(parts) + "</div></body></html>"


def _message(text: list[str], buttons: list[str]) -> str:
    body = html.escape("\n".join(text).strip())
    out = f'<div class="msg bot">{body}</div>' if body else ""
    if buttons:
        out += '<div class="buttons">' + "".join(
            f"<span>{html.escape(b)}</span>" for b in buttons) + "</div>"
    return out


async def shoot(page_html: str, target: Path) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                   args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 420, "height": 200})
        await page.set_content(page_html)
        await page.screenshot(path=str(target), full_page=True)
        await browser.close()


if __name__ == "__main__":
    target = ROOT / "docs" / "conversation.png"
    asyncio.run(shoot(to_html(transcript()), target))
    print(target.relative_to(ROOT))
