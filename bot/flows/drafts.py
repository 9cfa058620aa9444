"""A petition being written is never dropped silently.

Pressing or typing something that opens another flow while a petition draft holds anything
asks first: "Tiếp tục soạn" (back to the step, its question asked again) or "Bỏ bản nháp"
(then the action asked for is done). The engine keeps the step's last question with the
draft (`remember`) so it can be asked again. Flows import no channel library.
"""

from __future__ import annotations

from typing import Any

from bot.flows import menu
from bot.flows.base import STAY, Ctx
from bot.messages import Button, Reply
from storage.turns import ConversationState

KEEP, DROP = "dr:keep", "dr:drop"
DRAFT_FLOWS = frozenset({"petition"})
LEAVING, PROMPT = "_leaving", "_prompt"  # keys of the draft's data kept for this module
MAX_PROMPT = 1000


def in_draft(conv: ConversationState) -> bool:
    """True when the conversation holds a draft that leaving would lose."""
    return conv.flow in DRAFT_FLOWS and any(not k.startswith("_") for k in conv.data)


def remember(conv: ConversationState, replies: list[Reply], moved: bool) -> None:
    """Keep the question of a draft's step (the last reply of a turn that moved there)."""
    if moved and replies and conv.flow in DRAFT_FLOWS:
        conv.data[PROMPT] = replies[-1].text[:MAX_PROMPT]


def pending(ctx: Ctx) -> dict[str, Any] | None:
    """The message that asked to leave the draft, while the question is open."""
    leaving = ctx.data.get(LEAVING)
    if not isinstance(leaving, dict):
        return None
    return {k: leaving.get(k) for k in ("payload", "command")} | {
        "text": leaving.get("text") or "", "args": leaving.get("args") or ""}


def forget(ctx: Ctx) -> tuple[Button, ...]:
    """The person answered something else: the question is closed, the draft stays;
    returns the step's choices, offered again."""
    leaving = ctx.data.pop(LEAVING, None) or {}
    return tuple(Button(label, payload) for label, payload in leaving.get("buttons", []))


async def confirm_leave(ctx: Ctx) -> object:
    """Ask before dropping the draft; the message that would drop it is kept meanwhile."""
    msg = ctx.msg
    ctx.data[LEAVING] = {"payload": msg.payload, "command": msg.command, "text": msg.text,
                         "args": msg.args,
                         "buttons": [[b.label, b.payload] for b in ctx.offered]}
    ctx.say(ctx._("You have not sent the petition you are writing. Keep writing it, or drop "
                  "the draft?"),
            Button(ctx._("Keep writing"), KEEP), Button(ctx._("Drop the draft"), DROP))
    return STAY


async def keep(ctx: Ctx) -> object:
    """Back to the step of the draft: its question and choices again."""
    leaving = ctx.data.pop(LEAVING, None) or {}
    buttons = [Button(label, payload) for label, payload in leaving.get("buttons", [])]
    question = ctx.data.get(PROMPT) or ctx._("Please continue.")
    ctx.say(ctx._("Your draft is kept.") + "\n\n" + question, *buttons)
    return STAY


async def help_in_place(ctx: Ctx) -> object:
    """Help asked for while writing: the guide, then the same step again."""
    ctx.say(menu.help_body(ctx))
    question = ctx.data.get(PROMPT) or ctx._("Please continue.")
    ctx.say(ctx._("Your draft is kept.") + "\n\n" + question, *ctx.offered)
    return STAY
