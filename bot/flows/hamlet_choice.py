"""A hamlet typed rather than pressed: "na ca", "Nà Ca", "thon na ca", "nà" all find Thôn Nà Ca.

Names are compared folded (no accents, no case) and without the hamlet's label ("Thôn",
"Khu", "Tổ dân phố"…). A whole name is taken at once; a part of a name, or a near miss
("na ka"), is offered back for confirmation first.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.flows.base import STAY, Ctx
from bot.messages import Button
from bot.textfold import fold
from storage.models import Hamlet

LABEL_WORDS = ("to dan pho", "khu pho", "thon", "khu", "to", "ban", "ap", "xom")
NEAR_MISS = 0.75  # difflib ratio from which a typo is offered back ("na ka" for "na ca")
MAX_OFFERED = 3


@dataclass(frozen=True)
class Found:
    """The hamlets a typed text may mean, and whether the first is certain."""

    hamlets: tuple[Hamlet, ...]
    sure: bool


def bare(name: str, label: str = "") -> str:
    """The folded name without its leading label: "Thôn Nà Ca" -> "na ca"."""
    key = fold(name)
    for word in (fold(label), *LABEL_WORDS):
        if word and key.startswith(word + " ") and len(key) > len(word) + 1:
            return key[len(word) + 1:]
    return key


def _words_start(typed: list[str], words: list[str]) -> bool:
    """Each typed word begins a word of the name, in order ("hoang thu" ~ "hoang van thu")."""
    position = 0
    for part in typed:
        while position < len(words) and not words[position].startswith(part):
            position += 1
        if position == len(words):
            return False
        position += 1
    return True


def find(text: str, hamlets: Sequence[Hamlet]) -> Found:
    """The hamlets `text` names: one whole name is sure; parts and near misses are not."""
    keys = {fold(text), bare(text)} - {""}  # "Bản Lải" is a name, "Thôn Bản Lải" a label+name
    if not keys or keys <= set(LABEL_WORDS):  # "thôn" alone names no hamlet
        return Found((), False)
    whole = [h for h in hamlets if keys & {bare(h.name, h.label), fold(h.name)}]
    if len(whole) == 1:
        return Found((whole[0],), True)
    parts = [h for h in hamlets if any(
        _words_start(key.split(), bare(h.name, h.label).split()) for key in keys)]
    if parts:
        return Found(tuple(parts[:MAX_OFFERED]), False)
    typed = bare(text)
    scored = sorted(((difflib.SequenceMatcher(None, typed, bare(h.name, h.label)).ratio(), i)
                     for i, h in enumerate(hamlets)), reverse=True)
    near = [hamlets[i] for ratio, i in scored if ratio >= NEAR_MISS]
    return Found(tuple(near[:MAX_OFFERED]), False)


def confirm(ctx: Ctx, found: Found, payload_of: Callable[[Hamlet], str]) -> object:
    """Offer the likely hamlets first, then the step's other choices, and stay."""
    offered = [Button(h.name, payload_of(h)) for h in found.hamlets]
    if len(offered) == 1:
        text = ctx._("Did you mean {hamlet}? Choose it below, or another hamlet.").format(
            hamlet=found.hamlets[0].name)
    else:
        text = ctx._("Which one do you mean? Choose below.")
    payloads = {b.payload for b in offered}
    offered += [b for b in ctx.offered if b.payload not in payloads]
    ctx.say(text, *offered)
    return STAY


async def typed_hamlet(
    ctx: Ctx, hamlets: Sequence[Hamlet], payload_of: Callable[[Hamlet], str],
) -> Hamlet | object | None:
    """The hamlet typed at a hamlet step: the Hamlet when sure; STAY after asking to
    confirm; None when the text names no hamlet."""
    if ctx.chosen or not ctx.msg.text.strip():
        return None
    found = find(ctx.msg.text, hamlets)
    if found.sure:
        return found.hamlets[0]
    if found.hamlets:
        return confirm(ctx, found, payload_of)
    return None
