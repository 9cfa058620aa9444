"""Sending a petition: type, (identity), field, place, description, photos, review, submit.

Following it ("Phản ánh của tôi") lives in bot.flows.my_petitions.

A chat submission is the reception of information; complaints and denunciations are told
how to complete the legal filing. The petition is committed before the code is shown (the
engine commits the whole turn before any reply leaves).
"""

from __future__ import annotations

from typing import Any

from bot.flows import menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, office_contact, reoffer
from bot.messages import Button
from bot.services import petition_intake as intake_service
from bot.services import petitions as service
from bot.services.petition_statuses import COMPLAINT, DENUNCIATION, FEEDBACK, KIND_LABELS, PREFIXES
from storage.repositories import Hamlets, Subscriptions

KINDS = (FEEDBACK, COMPLAINT, DENUNCIATION)
MAX_NAME = 200
MAX_ADDRESS = 300


def settings_of(ctx: Ctx) -> service.Settings:
    """The commune's petition settings."""
    return service.Settings.of(ctx.commune)


def kind_label(ctx: Ctx, kind: str) -> str:
    """A petition type in the user's language."""
    return ctx._(KIND_LABELS[kind])


# --- 1. type --------------------------------------------------------------------------------


async def start(ctx: Ctx) -> object:
    """The "Gửi phản ánh, kiến nghị" entry: what each type is and what the law asks."""
    ctx.data.clear()
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


async def kind(ctx: Ctx) -> object:
    """Keep the type; feedback asks about anonymity, the others ask who files."""
    chosen = (ctx.chosen or "").removeprefix("pt:kind:")
    if chosen not in PREFIXES:
        return reoffer(ctx)
    ctx.data["kind"] = chosen
    if chosen == FEEDBACK:
        ctx.say(ctx._("Send it normally, or anonymously? Anonymous feedback is still looked "
                      "at, but it is not handled as a complaint or denunciation under the law, "
                      "and the commune cannot contact you about it."),
                Button(ctx._("Send normally"), "pt:named"),
                Button(ctx._("Anonymous"), "pt:anonymous"), main_menu_button(ctx))
        return anonymity
    return ask_full_name(ctx)


async def anonymity(ctx: Ctx) -> object:
    """Anonymous or not, then the field."""
    if ctx.chosen not in ("pt:named", "pt:anonymous"):
        return reoffer(ctx)
    ctx.data["anonymous"] = ctx.chosen == "pt:anonymous"
    return ask_field(ctx)


# --- identity (complaints and denunciations) -------------------------------------------------


def ask_full_name(ctx: Ctx) -> object:
    """Who files: the law requires the full name."""
    reason = (ctx._("Your name and address are kept secret and seen only by the officer "
                    "handling denunciations.") if ctx.data["kind"] == DENUNCIATION
              else ctx._("The law requires the name and address of the person who complains."))
    ctx.say(reason + "\n\n" + ctx._("Please type your full name:"), main_menu_button(ctx))
    return full_name


async def full_name(ctx: Ctx) -> object:
    """Keep the name, ask for the address."""
    name = " ".join(ctx.msg.text.split())
    if len(name) < 2 or len(name) > MAX_NAME or ctx.chosen:
        ctx.say(ctx._("Please type your full name (for example: Nguyễn Văn An)."),
                *ctx.offered)
        return STAY
    ctx.data["full_name"] = name
    ctx.say(ctx._("Your address (house number, street or hamlet, commune):"),
            main_menu_button(ctx))
    return home_address


async def home_address(ctx: Ctx) -> object:
    """Keep the address, ask for an optional phone number."""
    address = " ".join(ctx.msg.text.split())
    if len(address) < 3 or len(address) > MAX_ADDRESS or ctx.chosen:
        ctx.say(ctx._("Please type your address."), *ctx.offered)
        return STAY
    ctx.data["home_address"] = address
    ctx.say(ctx._("A phone number the commune may call you on (optional). Type it, share "
                  "your contact, or skip:"),
            Button(ctx._("Skip"), "pt:skip"), main_menu_button(ctx))
    return phone


async def phone(ctx: Ctx) -> object:
    """Keep the phone number if given."""
    if ctx.chosen == "pt:skip":
        ctx.data["phone"] = None
    elif ctx.msg.contact:
        ctx.data["phone"] = ctx.msg.contact.phone[:30]
    else:
        digits = "".join(c for c in ctx.msg.text if c.isdigit() or c == "+")
        if not 9 <= len(digits.lstrip("+")) <= 12:
            ctx.say(ctx._("That does not look like a phone number. Type it again or skip:"),
                    *ctx.offered)
            return STAY
        ctx.data["phone"] = digits
    return ask_field(ctx)


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
        return await review(ctx)
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
    elif chosen.startswith("pt:hamlet:") and chosen.removeprefix("pt:hamlet:").isdigit():
        found = await Hamlets(ctx.session).get(int(chosen.removeprefix("pt:hamlet:")))
        if found is None:
            return reoffer(ctx)
        ctx.data["hamlet_id"] = found.id
    else:
        return reoffer(ctx)
    ctx.say(ctx._("Send a location pin, or type the exact place (house number, street, "
                  "landmark), or skip:"), Button(ctx._("Skip"), "pt:skip"),
            main_menu_button(ctx))
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
        return await review(ctx)
    return ask_description(ctx)


# --- 3. description and photos --------------------------------------------------------------


def ask_description(ctx: Ctx) -> object:
    """What happened."""
    ctx.say(ctx._("Describe the matter: what, where, since when (up to 4,000 characters). "
                  "You may also send a photo with a caption."), main_menu_button(ctx))
    return describe


async def describe(ctx: Ctx) -> object:
    """Keep the text (a photo's caption counts; the photo is kept too)."""
    text = ctx.msg.text.strip()
    if ctx.msg.attachments:
        problem = _add_attachments(ctx)
        if problem:
            ctx.say(problem, *ctx.offered)
            return STAY
    if len(text) < intake_service.MIN_DESCRIPTION:
        ctx.say(ctx._("Please describe it in a few words of text (at least 10 characters)."),
                *ctx.offered)
        return STAY
    if len(text) > intake_service.MAX_DESCRIPTION:
        ctx.say(ctx._("The text has {count} characters; please shorten it to 4,000.").format(
            count=len(text)), *ctx.offered)
        return STAY
    ctx.data["description"] = text
    if ctx.data.get("editing"):
        return await review(ctx)
    return ask_photos(ctx)


def _add_attachments(ctx: Ctx) -> str | None:
    """Keep photos, documents and voice messages sent; the reason when one is refused."""
    kept: list[dict[str, Any]] = ctx.data.setdefault("attachments", [])
    for attachment in ctx.msg.attachments:
        if attachment.kind not in ("photo", "image", "document", "voice"):
            return ctx._("Only photos and documents can be attached.")
        if attachment.size and attachment.size > intake_service.MAX_ATTACHMENT_BYTES:
            return ctx._("That file is larger than 20 MB; please send a smaller one.")
        if len(kept) >= intake_service.MAX_ATTACHMENTS:
            return ctx._("You have already attached 5 files, the most allowed.")
        kept.append({**vars(attachment), "channel": ctx.msg.channel})
    return None


def ask_photos(ctx: Ctx) -> object:
    """Up to 5 photos (or documents), or none."""
    count = len(ctx.data.get("attachments", []))
    text = ctx._("Send photos if you have them (up to 5), then tap “Done”. Or skip.")
    if count:
        text = ctx.ngettext("{count} file attached.", "{count} files attached.", count).format(
            count=count) + " " + text
    ctx.say(text, Button(ctx._("Done"), "pt:done"), Button(ctx._("Skip"), "pt:skip"),
            main_menu_button(ctx))
    return photos


async def photos(ctx: Ctx) -> object:
    """Collect files until "Done" or "Skip"."""
    if ctx.msg.attachments:
        problem = _add_attachments(ctx)
        if problem:
            ctx.say(problem, *ctx.offered)
            return STAY
        return ask_photos(ctx)
    if ctx.chosen in ("pt:done", "pt:skip"):
        return await review(ctx)
    return reoffer(ctx)


# --- 4. review and submit ------------------------------------------------------------------


async def review(ctx: Ctx) -> object:
    """The summary card: send, edit a part, or cancel."""
    ctx.data.pop("editing", None)
    data = ctx.data
    hamlet_row = await Hamlets(ctx.session).get(data.get("hamlet_id"))
    place_parts = [hamlet_row.name if hamlet_row else None, data.get("address")]
    if data.get("latitude") is not None:
        place_parts.append(ctx._("location pin"))
    lines = [
        ctx._("Please check before sending:"), "",
        ctx._("Type: {kind}").format(kind=kind_label(ctx, data["kind"])),
        ctx._("Field: {field}").format(
            field=settings_of(ctx).field_label(data["field"], ctx.user.locale)),
        ctx._("Place: {place}").format(place=", ".join(p for p in place_parts if p) or "—"),
        ctx._("Content: {text}").format(text=data["description"]),
        ctx._("Files: {count}").format(count=len(data.get("attachments", []))),
    ]
    if data.get("full_name"):
        lines.append(ctx._("Sent by: {name}, {address}").format(
            name=data["full_name"], address=data["home_address"]))
    if data.get("anonymous"):
        lines.append(ctx._("Anonymous: not handled as a complaint or denunciation."))
    ctx.say("\n".join(lines), Button(ctx._("Send"), "pt:send"), Button(ctx._("Edit"), "pt:edit"),
            Button(ctx._("Cancel"), "pt:cancel"))
    return confirm


async def confirm(ctx: Ctx) -> object:
    """Send (after the duplicate hint, once), edit, or cancel."""
    if ctx.chosen == "pt:cancel":
        return menu.show(ctx, ctx._("Cancelled. Nothing was sent."))
    if ctx.chosen == "pt:edit":
        ctx.say(ctx._("What do you want to change?"),
                Button(ctx._("Field"), "pt:edit:field"), Button(ctx._("Place"), "pt:edit:place"),
                Button(ctx._("Content"), "pt:edit:content"),
                Button(ctx._("Photos"), "pt:edit:photos"))
        return edit_choice
    if ctx.chosen != "pt:send":
        return reoffer(ctx)
    intake = _intake(ctx)
    if not ctx.data.get("similar_offered"):
        ctx.data["similar_offered"] = True
        similar = await intake_service.similar_open(ctx.session, intake, now=ctx.now)
        if similar is not None:
            ctx.data["similar"] = similar.code
            ctx.say(ctx._("A similar petition about the same place is already being handled: "
                          "{code} (received {day}). You can follow that one and be told when "
                          "it is answered, or still send yours.").format(
                              code=similar.code, day=ctx.day(similar.received_at)),
                    Button(ctx._("Follow that one"), "pt:follow"),
                    Button(ctx._("Send mine anyway"), "pt:send"))
            return duplicate
    return await submit(ctx, intake)


async def duplicate(ctx: Ctx) -> object:
    """Follow the similar petition, or send this one anyway."""
    if ctx.chosen == "pt:send":
        return await submit(ctx, _intake(ctx))
    if ctx.chosen != "pt:follow":
        return reoffer(ctx)
    code = ctx.data.get("similar", "")
    similar = await service.by_code(ctx.session, code)
    if similar is not None:
        await Subscriptions(ctx.session).subscribe(ctx.user.id, f"petition:{similar.id}")
    return menu.show(ctx, ctx._("You will be told when {code} is answered. Your own text was "
                                "not sent.").format(code=code))


async def edit_choice(ctx: Ctx) -> object:
    """Go back to one part; the review comes again afterwards."""
    ctx.data["editing"] = True
    match ctx.chosen:
        case "pt:edit:field":
            return ask_field(ctx)
        case "pt:edit:place":
            return await ask_hamlet(ctx)
        case "pt:edit:content":
            return ask_description(ctx)
        case "pt:edit:photos":
            ctx.data["attachments"] = []
            return ask_photos(ctx)
    ctx.data.pop("editing")
    return reoffer(ctx)


def _intake(ctx: Ctx) -> intake_service.Intake:
    data = ctx.data
    identity = None
    if data.get("full_name"):
        identity = intake_service.Identity(data["full_name"], data["home_address"],
                                           data.get("phone"))
    return intake_service.Intake(
        kind=data["kind"], field=data["field"], description=data["description"],
        hamlet_id=data.get("hamlet_id"), latitude=data.get("latitude"),
        longitude=data.get("longitude"), address=data.get("address"),
        attachments=list(data.get("attachments", [])), anonymous=bool(data.get("anonymous")),
        identity=identity,
    )


async def submit(ctx: Ctx, intake: intake_service.Intake) -> object:
    """Store the petition and give the tracking code and the dates."""
    settings = settings_of(ctx)
    try:
        petition = await intake_service.submit(ctx.session, intake, ctx.user, now=ctx.now,
                                               timezone=ctx.timezone, settings=settings)
    except service.PetitionError as exc:
        if exc.code == "limit":
            return menu.show(ctx, ctx._(
                "You have sent {limit} petitions today, the most allowed in one day. Please "
                "send this one tomorrow, or contact {office}.").format(
                    limit=settings.daily_limit, office=office_contact(ctx)))
        return menu.show(ctx, ctx._("This could not be sent; please start again."))
    lines = [ctx._("Received. Your tracking code is {code}.").format(code=petition.code)]
    if petition.kind == FEEDBACK:
        lines.append(ctx._("Expected answer by {day}. You will be told here at each step.")
                     .format(day=ctx.day(petition.answer_due)))
    else:
        what = (ctx._("complaint") if petition.kind == COMPLAINT
                else ctx._("denunciation"))
        lines += [
            ctx._("This message is the reception of your information; it is not yet a "
                  "legally filed {what}. To complete it, please bring or send to {office}:")
            .format(what=what, office=office_contact(ctx)),
            ctx._("• a written {what} with the date, your full name, address, what it is "
                  "about, your reasons and requests, signed or fingerprinted by you;")
            .format(what=what),
            ctx._("• your ID card (căn cước) and any papers or evidence you have;"),
            ctx._("• the tracking code {code}.").format(code=petition.code),
            ctx._("The commune will tell you by {day} whether it is accepted.").format(
                day=ctx.day(petition.accept_due)),
        ]
    if petition.anonymous:
        lines.append(ctx._("Anonymous: not handled as a complaint or denunciation."))
    return menu.show(ctx, "\n".join(lines))


FLOW = Flow.of(
    "petition", kind, anonymity, full_name, home_address, phone, field, hamlet, place,
    describe, photos, confirm, duplicate, edit_choice,
)
