"""Vietnamese text as people type it: NFC for storage, folded for matching and search.

Folding drops diacritics, maps đ/Đ to d and lower-cases, so "duong" matches "Đường"
and NFD input matches NFC text.
"""

from __future__ import annotations

import unicodedata

_D_MAP = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str) -> str:
    """The NFC form we store."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Accent- and case-insensitive key: no combining marks, đ -> d, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
