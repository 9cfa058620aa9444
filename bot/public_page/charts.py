"""Bar charts as inline SVG, drawn on the server: no script, readable on a small phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

ROW = 26  # height of one horizontal bar with its gap
LABEL_WIDTH = 150
WIDTH = 480


def _label(text: str, limit: int = 22) -> str:
    """A label cut to fit its column."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bars(title: str, items: Sequence[tuple[str, int]], key: str) -> str:
    """Horizontal bars, one per (label, value), the value written after the bar."""
    if not items:
        return ""
    top = max(value for _, value in items) or 1
    span = WIDTH - LABEL_WIDTH - 40
    height = ROW * len(items) + 4
    parts = [f'<svg class="chart" data-chart="{escape(key)}" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"]
    for row, (label, value) in enumerate(items):
        y = row * ROW + 4
        length = round(span * value / top)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">'
            f"{escape(_label(label))}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{max(length, 1)}" '
            f'height="{ROW - 8}" data-value="{value}"/>'
            f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 14}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def columns(title: str, items: Sequence[tuple[str, int]], key: str) -> str:
    """Vertical bars (e.g. the twelve months), the value above each bar."""
    if not items:
        return ""
    top = max(value for _, value in items) or 1
    height, base = 170, 145
    step = WIDTH / len(items)
    parts = [f'<svg class="chart" data-chart="{escape(key)}" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"
             f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" class="axis"/>']
    for index, (label, value) in enumerate(items):
        x = index * step + step * 0.15
        length = round(115 * value / top)
        middle = x + step * 0.35
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - length}" width="{step * 0.7:.1f}" '
            f'height="{max(length, 0)}" data-value="{value}"/>'
            f'<text x="{middle:.1f}" y="{base - length - 4}" text-anchor="middle">'
            f"{value}</text>"
            f'<text x="{middle:.1f}" y="{base + 16}" text-anchor="middle">'
            f"{escape(label)}</text>")
    parts.append("</svg>")
    return "".join(parts)
