"""Text and ids as they cross a channel's edge: cleaned before anything is stored, rendered or
logged.

Every adapter (Telegram, Zalo, Zalo OA, the console, Open311) passes what it receives through
here. Text loses NUL and the other control characters (tab and line breaks stay) and the
Unicode noncharacters; a lone surrogate (half of an emoji pair, which no encoder accepts)
becomes U+FFFD. Emoji, Vietnamese and every other real character pass untouched, and
Vietnamese is composed (NFC) so the same word always has the same code points. Ids are
checked for length and characters: a channel's ids are short ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters except \t \n \r, DEL, and the noncharacters (U+FDD0..FDEF and the
# last two code points of every plane); removed.
_DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufdd0-\ufdef" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17)) + "]")
_ID = re.compile(r"[A-Za-z0-9_.:@=+-]{1,64}")
MAX_DEPTH = 32  # nesting of a JSON body; real updates are under 12 deep
MAX_INT_ID = 2**53  # Telegram: ids fit in 52 bits and a sign; larger ones are forged


class TooDeep(ValueError):
    """A JSON body nested deeper than MAX_DEPTH."""


def clean_text(text: str) -> str:
    """The text without NUL, other control characters and noncharacters; a lone surrogate
    becomes U+FFFD. Clean ASCII (the common case) is returned as is."""
    if text.isascii() and text.isprintable():
        return text
    text = _SURROGATE.sub("\ufffd", text)
    text = _DROPPED.sub("", text)
    return unicodedata.normalize("NFC", text)


def clean_json(value: Any, depth: int = 0) -> Any:
    """A parsed JSON value with every string (keys too) cleaned; raises TooDeep when nested
    deeper than MAX_DEPTH (so later recursion over it can never overflow)."""
    if isinstance(value, str):
        return clean_text(value)
    if depth >= MAX_DEPTH and isinstance(value, dict | list):
        raise TooDeep("the body is nested too deeply")
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    return value


def clean_id(value: object) -> str | None:
    """A channel id as text when it is a plausible id (an integer of at most 53 bits, or up
    to 64 ASCII letters, digits and `_.:@=+-`); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if -MAX_INT_ID < value < MAX_INT_ID else None
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    return None

