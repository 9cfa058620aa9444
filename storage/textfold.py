"""Vietnamese text as people type it: NFC for storage, folded for matching and search.

Folding drops diacritics, maps đ/Đ to d and lower-cases, so "duong" matches "Đường"
and NFD input matches NFC text.
"""

from __future__ import annotations

import functools
import unicodedata

_D_MAP = str.maketrans({"đ": "d", "Đ": "d"})
SHORT = 100  # characters: longer texts are folded afresh, not remembered


def nfc(text: str) -> str:
    """The NFC form we store."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Accent- and case-insensitive key: no combining marks, đ -> d, single spaces."""
    if text.isascii():
        return " ".join(text.lower().split())
    return _fold_short(text) if len(text) <= SHORT else _fold(text)


@functools.lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    """Button labels and typed words repeat on every turn: remember their keys."""
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
