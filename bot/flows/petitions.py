"""Sending a petition: type, (identity), field, place, description, photos, review, submit.

The sender's name, address and phone are asked in bot.flows.petition_identity, the review
and submit steps are in bot.flows.petition_review. Following it ("Phản ánh của tôi") lives
in bot.flows.my_petitions.

A chat submission is the reception of information; complaints and denunciations are told
how to complete the legal filing. The petition is committed before the code is shown (the
engine commits the whole turn before any reply leaves).
"""

from __future__ import annotations

from typing import Any

from bot.flows import hamlet_choice, menu, petition_identity, petition_review, words
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, office_contact, reoffer, tap
from bot.messages import LOCATION, REQUEST_CHANNELS, Button, Request
from bot.services import petition_intake as intake_service
from bot.services import petitions as service
from bot.services.petition_statuses import COMPLAINT, DENUNCIATION, FEEDBACK, KIND_LABELS, PREFIXES
from bot.typed import ascii_int
from storage.repositories import Hamlets

KINDS = (FEEDBACK, COMPLAINT, DENUNCIATION)
AS_IS = "pt:as_is"
SHORT_WORDS = 3  # a description of fewer words gets a gentle prompt for more
MAX_ADDRESS = 300


def settings_of(ctx: Ctx) -> service.Settings:
    """The commune's petition settings."""
    return service.Settings.of(ctx.commune)


def kind_label(ctx: Ctx, kind: str) -> str:
    """A petition type in the user's language."""
    return ctx._(KIND_LABELS[kind])


# --- 1. type --------------------------------------------------------------------------------


async def start(ctx: Ctx) -> object:
    """The "Gửi phản ánh, kiến nghị" entry: the daily limit first (before any typing), then
    what each type is and what the law asks."""
    ctx.data.clear()
    if (refused := await over_limit(ctx)) is not None:
        return refused
    text = "\n\n".join((
        ctx._("What would you like to send?"),
        ctx._("• Feedback or recommendation: tell the commune about a problem or suggest "
              "something. It can be anonymous."),
        ctx._("• Complaint: ask the commune to review one of its decisions or acts that you "
              "think is wrong and affects your rights. It needs your full name and address, "
              "and a signed written complaint to be legally filed."),
        ctx._("• Denunciation: report a violation of the law by an official, an organisation "
              "or a person. It needs your full name and address and a signed written "
              "denunciation; your identity is kept secret."),
    ))
    ctx.say(text, *(Button(kind_label(ctx, k), f"pt:kind:{k}") for k in KINDS),
            main_menu_button(ctx))
    return kind


async def over_limit(ctx: Ctx) -> object | None:
    """The main menu with the reason when the person has sent today's most (told before
    anything is typed, not after "Gửi"); None while they may send."""
    settings = settings_of(ctx)
    sent = await intake_service.sent_today(ctx.session, ctx.user.id, ctx.now, ctx.timezone)
    if sent < settings.daily_limit:
        return None
    return menu.show(ctx, ctx._(
        "You have already sent {limit} petitions today, the most allowed in one day. "
        "You can send more tomorrow, or contact {office}.").format(
            limit=settings.daily_limit, office=office_contact(ctx)))


async def kind(ctx: Ctx) -> object:
    """Keep the type; feedback asks whether staff may know who sends it, the others ask
    who files."""
    chosen = (ctx.chosen or "").removeprefix("pt:kind:")
    if chosen not in PREFIXES:
        return reoffer(ctx)
    ctx.data["kind"] = chosen
    if chosen == FEEDBACK:
        ctx.say("\n".join((
            ctx._("Should the commune staff know who sends it?"),
            ctx._("• With your name and phone number: staff can call you back if they need "
                  "to know more."),
            ctx._("• Anonymously: staff will not see who sent it and cannot call you; the "
                  "answer still comes to you here in this chat. Anonymous feedback is not "
                  "handled as a complaint or denunciation."),
        )), Button(ctx._("Send with name and phone number"), "pt:named"),
            Button(ctx._("Send anonymously"), "pt:anonymous"), main_menu_button(ctx))
        return anonymity
    return petition_identity.ask_full_name(ctx)


async def anonymity(ctx: Ctx) -> object:
    """Anonymous goes on to the field; with a name asks the name and phone first."""
    if ctx.chosen not in ("pt:named", "pt:anonymous"):
        return reoffer(ctx)
    ctx.data["anonymous"] = ctx.chosen == "pt:anonymous"
    if ctx.data["anonymous"]:
        return ask_field(ctx)
    return petition_identity.ask_full_name(ctx)


# --- 2. field and place ---------------------------------------------------------------------


def ask_field(ctx: Ctx) -> object:
    """Which field it concerns."""
    settings = settings_of(ctx)
    buttons = [Button(settings.field_label(code, ctx.user.locale), f"pt:field:{code}")
               for code, _ in settings.fields]
    ctx.say(ctx._("Which field does it concern?"), *buttons, main_menu_button(ctx))
    return field


async def field(ctx: Ctx) -> object:
    """Keep the field, ask for the hamlet."""
    code = (ctx.chosen or "").removeprefix("pt:field:")
    if code not in dict(settings_of(ctx).fields):
        return reoffer(ctx)
    ctx.data["field"] = code
    if ctx.data.get("editing"):
        return await petition_review.review(ctx)
    return await ask_hamlet(ctx)


async def ask_hamlet(ctx: Ctx) -> object:
    """Where: the hamlet (the person's own first)."""
    hamlets = list(await Hamlets(ctx.session).active())
    hamlets.sort(key=lambda h: h.id != ctx.user.hamlet_id)
    ctx.say(ctx._("Where is it? Choose the hamlet:"),
            *(Button(h.name, f"pt:hamlet:{h.id}") for h in hamlets),
            Button(ctx._("Skip"), "pt:skip"), main_menu_button(ctx))
    return hamlet


async def hamlet(ctx: Ctx) -> object:
    """Keep the hamlet, ask for a pin or an address."""
    chosen = ctx.chosen or ""
    if chosen == "pt:skip":
        ctx.data["hamlet_id"] = None
    elif (picked := ascii_int(chosen.removeprefix("pt:hamlet:"))) is not None and (
            chosen.startswith("pt:hamlet:")):
        found = await Hamlets(ctx.session).get(picked)
        if found is None:
            return reoffer(ctx)
        ctx.data["hamlet_id"] = found.id
    else:
        typed = await hamlet_choice.typed_hamlet(
            ctx, list(await Hamlets(ctx.session).active()), lambda h: f"pt:hamlet:{h.id}")
        if typed is None:
            return reoffer(ctx)
        if typed is STAY:
            return STAY
        ctx.data["hamlet_id"] = typed.id
    return ask_place(ctx)


def ask_place(ctx: Ctx) -> object:
    """The exact place: the current location where the app can send it, or typed."""
    buttons = (Button(ctx._("Skip"), "pt:skip"), main_menu_button(ctx))
    skip = tap(ctx, buttons[0].label, buttons)
    if ctx.msg.channel in REQUEST_CHANNELS:
        pin = Request(LOCATION, ctx._("📍 Send current location"))
        ctx.say(ctx._("If you are at the place now, tap “{pin}”. Or type the exact place "
                      "(house number, street, landmark), or {skip}.").format(
                          pin=pin.label, skip=skip), *buttons, requests=(pin,))
    elif ctx.msg.channel == "zalo_oa":
        ctx.say(ctx._("Send the location from Zalo, or type the exact place (house number, "
                      "street, landmark), or {skip}.").format(skip=skip), *buttons)
    else:
        ctx.say(ctx._("Type the exact place (house number, street, landmark), or "
                      "{skip}.").format(skip=skip), *buttons)
    return place


async def place(ctx: Ctx) -> object:
    """Keep the pin and/or the address."""
    if ctx.msg.location:
        ctx.data["latitude"], ctx.data["longitude"] = ctx.msg.location
    elif ctx.chosen == "pt:skip":
        ctx.data["address"] = None
    elif ctx.msg.text.strip() and not ctx.chosen:
        ctx.data["address"] = " ".join(ctx.msg.text.split())[:MAX_ADDRESS]
    else:
        return reoffer(ctx)
    if ctx.data.get("editing"):
        return await petition_review.review(ctx)
    return ask_description(ctx)


# --- 3. description and photos --------------------------------------------------------------


async def start_with(ctx: Ctx, text: str | None, attachments: list[dict[str, Any]]) -> object:
    """A petition begun from the menu with what was typed or sent there (kept as its
    content and evidence; the description step is then not asked again for the text)."""
    if (refused := await over_limit(ctx)) is not None:
        return refused
    if text:
        ctx.say(ctx._("Your words will be the content of the petition: “{text}”. You can "
                      "change them before sending.").format(text=text))
    elif attachments:
        ctx.say(ctx._("Your file will be sent with the petition as evidence."))
    step = await start(ctx)
    if text:
        ctx.data["description"] = text
    if attachments:
        ctx.data["attachments"] = attachments
    return step


def ask_description(ctx: Ctx) -> object:
    """What happened (not asked again for text typed at the menu)."""
    if not ctx.data.get("editing"):
        if ctx.data.get("description"):
            return ask_photos(ctx)
        if ctx.data.get("attachments"):
            return ask_words(ctx)
    ctx.say(ctx._("Describe the matter: what, where, since when (up to 4,000 characters). "
                  "You may also send a photo or a voice message."), main_menu_button(ctx))
    return describe


def ask_words(ctx: Ctx) -> object:
    """A file came instead of words: it is kept; a few words are asked for, or none."""
    what = words.file_word(ctx, ctx.data["attachments"][-1].get("kind", "file"))
    ctx.say(ctx._("Your {what} is kept and will be sent with the petition as evidence. "
                  "Please type a few words about the matter (what, where), or send it as it "
                  "is.").format(what=what),
            Button(ctx._("Send as it is"), AS_IS), main_menu_button(ctx))
    return describe


async def describe(ctx: Ctx) -> object:
    """Keep the text (a photo's caption counts); a photo or voice message alone is kept as
    evidence and a few words are asked for, or none."""
    text = ctx.msg.text.strip()
    if ctx.chosen == AS_IS and ctx.data.get("attachments"):
        ctx.data["description"] = ctx._("(No text: see the attached files.)")
        return await petition_review.review(ctx)
    if ctx.msg.attachments:
        if (problem := keep_files(ctx)) is not None:
            ctx.say(problem, *ctx.offered)
            return STAY
        if not text:
            return ask_words(ctx)
    if len(text) < intake_service.MIN_DESCRIPTION or not any(c.isalnum() for c in text):
        if ctx.data.get("attachments"):
            return ask_words(ctx)
        ctx.say(ctx._("Please describe it in a few words (for example: “bãi rác đầu thôn "
                      "bốc mùi”), or send a photo or a voice message."), *ctx.offered)
        return STAY
    if len(text) > intake_service.MAX_DESCRIPTION:
        ctx.say(ctx._("The text has {count} characters; please shorten it to 4,000.").format(
            count=len(text)), *ctx.offered)
        return STAY
    ctx.data["description"] = text
    if ctx.data.get("editing"):
        return await petition_review.review(ctx)
    if len(text.split()) < SHORT_WORDS:
        ctx.say(ctx._("Noted: “{text}”. If you can, add where and since when: you can "
                      "change the text before sending (“Edit”).").format(text=text))
    return ask_photos(ctx)


def keep_files(ctx: Ctx) -> str | None:
    """Keep photos, documents and voice messages sent; the reason when one is refused."""
    kept: list[dict[str, Any]] = ctx.data.setdefault("attachments", [])
    for attachment in ctx.msg.attachments:
        if attachment.kind not in ("photo", "image", "document", "voice"):
            return ctx._("Only photos, documents and voice messages can be attached.")
        if attachment.size and attachment.size > intake_service.MAX_ATTACHMENT_BYTES:
            return ctx._("That file is larger than 20 MB; please send a smaller one.")
        if len(kept) >= intake_service.MAX_ATTACHMENTS:
            return ctx._("You have already attached 5 files, the most allowed.")
        kept.append({**vars(attachment), "channel": ctx.msg.channel})
    return None


def ask_photos(ctx: Ctx) -> object:
    """Up to 5 photos (or documents), or none."""
    count = len(ctx.data.get("attachments", []))
    buttons = (Button(ctx._("Done"), "pt:done"), Button(ctx._("Skip"), "pt:skip"),
               main_menu_button(ctx))
    text = ctx._("Send photos if you have them (up to 5), then {done}. Or {skip}.").format(
        done=tap(ctx, buttons[0].label, buttons), skip=tap(ctx, buttons[1].label, buttons))
    if count:
        text = ctx.ngettext("{count} file attached.", "{count} files attached.", count).format(
            count=count) + " " + text
    ctx.say(text, *buttons)
    return photos


async def photos(ctx: Ctx) -> object:
    """Collect files until "Done" or "Skip"."""
    if ctx.msg.attachments:
        if (problem := keep_files(ctx)) is not None:
            ctx.say(problem, *ctx.offered)
            return STAY
        return ask_photos(ctx)
    if ctx.chosen in ("pt:done", "pt:skip"):
        return await petition_review.review(ctx)
    return reoffer(ctx)


FLOW = Flow.of(
    "petition", kind, anonymity, petition_identity.full_name, petition_identity.home_address,
    petition_identity.phone, field, hamlet, place, describe, photos, petition_review.confirm,
    petition_review.duplicate,
    petition_review.edit_choice,
)
