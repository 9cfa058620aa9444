"""Words people type instead of pressing, understood at every step, with or without accents.

"hủy/thôi/dừng" leave what is going on, "menu/trang chủ" open the menu, "giúp/hướng dẫn"
show help, "quay lại/trở lại" press the step's Back button, "có/không/đồng ý" answer a
yes/no question, and a record's code opens it. Stickers, videos and files where none is
expected get an answer that says what happened to them. The engine asks `typed_choice` and
`reroute` after its own routing. Flows import no channel library.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from functools import partial

from bot.flows import drafts, menu, onboarding
from bot.flows.base import Ctx, Step
from bot.flows.common import reoffer
from bot.i18n import N_
from bot.messages import Button
from bot.textfold import fold
from storage.turns import ConversationState

CANCEL = frozenset({"huy", "huy bo", "thoi", "thoi khong", "dung", "dung lai", "thoat",
                    "cancel", "stop", "exit"})
MENU = frozenset({"menu", "menu chinh", "main menu", "trang chu", "ve trang chu",
                  "man hinh chinh", "home"})
HELP = frozenset({"giup", "giup do", "giup voi", "huong dan", "tro giup", "help"})
BACK = frozenset({"quay lai", "tro lai", "tro ve", "quay ve", "lui lai", "back"})
YES = frozenset({"co", "dong y", "vang", "ok", "oke", "okay", "yes", "chac chan", "dung vay"})
NO = frozenset({"khong", "ko", "k", "no", "thoi", "thoi khong", "khong dong y"})
RECORD_CODE = re.compile(r"^(PA|KN|TC)-\d{4}-\d{6}$")
SHORT_CODE = re.compile(r"^(dt|tt|ct)[ _-]?(\d{1,9})$")  # what mid-flow notices say to type
# Resident flows whose steps take no file: a file there is answered, never silently dropped
# (in a petition it is kept as evidence, the steps that ask for files take it themselves).
NO_FILE_FLOWS = frozenset({"disclosures", "sessions", "my_petitions", "settings"})
PETITION_FILE_STEPS = frozenset({"describe", "photos"})
# Steps that expect a choice, never text: words typed there are understood as at the menu.
CHOICE_STEPS = frozenset({("disclosures", "detail"), ("disclosures", "subscriptions"),
                          ("sessions", "listing"), ("sessions", "detail"),
                          ("my_petitions", "petition_view"), ("settings", "setting")})
FILE_KINDS = {"voice": N_("voice message"), "photo": N_("photo"), "image": N_("photo"),
              "document": N_("file")}
Route = Callable[[Ctx, ConversationState], tuple[Step, bool]]


def key(text: str) -> str:
    """Typed text as compared with the word lists: folded, without end punctuation or a
    polite "ạ" ("Hủy ạ!" -> "huy")."""
    folded = " ".join(fold(text).strip(" .,!?…~").split())
    return folded.removesuffix(" a").removesuffix(" nhe").strip()


def typed_choice(text: str, offered: tuple[Button, ...]) -> Button | None:
    """The offered button a typed word stands for: yes/no ("có" for "…:yes"), back."""
    word = key(text)
    if not word or not offered:
        return None
    suffix = ":yes" if word in YES or _right(text) else ":no" if word in NO else None
    if suffix:
        return next((b for b in offered if b.payload.endswith(suffix)), None)
    if word in BACK:
        return next((b for b in offered if key(b.label) in BACK), None)
    return None


def record_code(text: str) -> str | None:
    """A petition's tracking code typed alone ("pa-2026-000123" -> "PA-2026-000123")."""
    code = "".join(text.split()).upper()
    return code if RECORD_CODE.match(code) else None


async def reroute(ctx: Ctx, conv: ConversationState, step: Step, fresh: bool,
                  route: Route) -> tuple[Step, bool]:
    """The step that answers after the engine's routing: words, codes, files, drafts."""
    msg = ctx.msg
    if (conv.flow == "onboarding" or ctx.user.onboarded_at is None
            or step in (onboarding.greet, onboarding.renew)):
        return step, fresh
    pending = drafts.pending(ctx)
    if pending is not None and msg.payload == drafts.DROP:
        ctx.msg = dataclasses.replace(msg, **pending)  # do what was asked for
        ctx.data = {}
        return await _understood(ctx, conv, *route(ctx, conv))
    if msg.payload == drafts.KEEP:  # also from an older question: the draft stays
        return drafts.keep, False
    if msg.payload == drafts.DROP:  # an older question, answered now
        return menu.cancel, True
    if pending is not None:
        ctx.offered = drafts.forget(ctx)  # the step answers with its own choices
    step, fresh = await _understood(ctx, conv, step, fresh)
    if fresh and step is not menu.cancel and drafts.in_draft(conv):
        if step is menu.help_text:
            return drafts.help_in_place, False
        return drafts.confirm_leave, False
    return step, fresh


async def _understood(ctx: Ctx, conv: ConversationState, step: Step,
                      fresh: bool) -> tuple[Step, bool]:
    """Typed words, codes and contents the saved step would not understand."""
    msg = ctx.msg
    if msg.command and step is menu.unknown_command:
        word = key(msg.command)
        for words, target in ((CANCEL, menu.cancel), (MENU, menu.open_menu),
                              (HELP, menu.help_text)):
            if word in words:
                return target, True
        return step, fresh
    if msg.command or msg.payload:
        return step, fresh
    if msg.location or msg.contact:
        return _at_menu(step), fresh
    if msg.unread and not msg.text.strip() and not msg.attachments:
        return (sticker if msg.unread == "sticker" else unread), False
    if msg.attachments:
        if conv.flow == "petition" and conv.step not in PETITION_FILE_STEPS:
            return petition_files, False
        if conv.flow in NO_FILE_FLOWS:
            return files_here, False
        return _at_menu(step), fresh
    word = key(msg.text)
    if word in CANCEL and not _right(msg.text):
        return menu.cancel, True
    if word in MENU or (word in BACK and conv.flow is not None):
        return menu.open_menu, True
    if word in HELP:
        return menu.help_text, True
    if (code := record_code(msg.text)) is not None:
        from bot.flows import LINKS  # the registry imports this module

        return partial(LINKS["petition"], arg=code), True
    if conv.flow not in (None, "menu") and (link := await _short_link(ctx, word)):
        return link, True
    if (conv.flow, conv.step) in CHOICE_STEPS and any(c.isalpha() for c in msg.text):
        return menu.choice, True
    return _at_menu(step), fresh


def _at_menu(step: Step) -> Step:
    """Text or files outside any flow are understood as at the menu, not re-prompted."""
    return menu.choice if step is menu.open_menu else step


def emoji_only(text: str) -> bool:
    """True for a message of emoji alone ("👍", "🙂🎉"), which answers like a sticker."""
    shown = [c for c in text if not c.isspace() and c not in "\u200d\ufe0f"]
    return bool(shown) and all(unicodedata.category(c) == "So" for c in shown)


def _right(text: str) -> bool:
    """"Đúng" (right) folds like "dừng" (stop): tell them apart before folding."""
    return text.strip().lower().startswith("đúng")


async def _short_link(ctx: Ctx, word: str) -> Step | None:
    """A session ("DT12"), disclosure ("TT12") or relayed notice ("CT12") code typed
    mid-flow, if that record exists (so an address like "ĐT 741" is not taken for one)."""
    from bot.flows import LINKS  # the registry imports this module
    from storage.models import DialogueSession, Disclosure, OutboxMessage

    found = SHORT_CODE.match(word)
    if found is None:
        return None
    name, model = {"dt": ("session", DialogueSession), "tt": ("disclosure", Disclosure),
                   "ct": ("relay", OutboxMessage)}[found[1]]
    if await ctx.session.get(model, int(found[2])) is None:
        return None
    return partial(LINKS[name], arg=found[2])


async def sticker(ctx: Ctx) -> object:
    """A sticker: a friendly word, and the same choices again."""
    text = ctx._("Thank you! 😊")
    if not ctx.offered:
        return menu.show(ctx, text + " " + ctx._("What would you like to do?"))
    return reoffer(ctx, text + " " + ctx._("Please continue: choose below or type your answer."))


async def unread(ctx: Ctx) -> object:
    """Content the assistant cannot read (a video, a GIF, a message Zalo withheld)."""
    text = ctx._("Sorry, I cannot open this kind of message, so it was not kept. Please type "
                 "a few words, or send a photo or a voice message.")
    return reoffer(ctx, text) if ctx.offered else menu.show(ctx, text)


def file_word(ctx: Ctx, kind: str) -> str:
    """What a received file is called in a sentence: "tin nhắn thoại", "ảnh", "tệp"."""
    return ctx._(FILE_KINDS.get(kind, N_("file")))


async def petition_files(ctx: Ctx) -> object:
    """A photo or voice message at any step of a petition: kept as its evidence."""
    from bot.flows import petitions  # petitions imports this module

    what = file_word(ctx, ctx.msg.attachments[0].kind)
    if (problem := petitions.keep_files(ctx)) is not None:
        return reoffer(ctx, problem)
    return reoffer(ctx, ctx._("Your {what} is kept and will be sent with the petition. Please "
                              "continue:").format(what=what))


async def files_here(ctx: Ctx) -> object:
    """A photo or voice message at a step that takes none: say it was not kept."""
    what = file_word(ctx, ctx.msg.attachments[0].kind)
    return reoffer(ctx, ctx._("I received your {what}, but this step does not use it, so it "
                              "was not kept. Please choose below or type your answer:")
                   .format(what=what))
