"""Sending a petition, the last part: the summary to check, edit or send, the hint about a
similar open petition, and the tracking code with the dates once it is stored.

Steps of the "petition" flow (bot.flows.petitions), which asks for the parts before.
"""

from __future__ import annotations

# bot.flows.petitions imports this module: its names are read at call time.
from bot.flows import menu, petitions
from bot.flows.base import Ctx
from bot.flows.common import office_contact, reoffer
from bot.i18n import N_
from bot.messages import Button
from bot.services import petition_cards
from bot.services import petition_intake as intake_service
from bot.services import petitions as service
from bot.services.petition_statuses import COMPLAINT, DENUNCIATION, FEEDBACK, NAMED
from storage.repositories import Hamlets, Subscriptions


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
        ctx._("Type: {kind}").format(kind=petitions.kind_label(ctx, data["kind"])),
        ctx._("Field: {field}").format(
            field=petitions.settings_of(ctx).field_label(data["field"], ctx.user.locale)),
        ctx._("Place: {place}").format(place=", ".join(p for p in place_parts if p) or "—"),
        ctx._("Content: {text}").format(text=data["description"]),
        ctx._("Files: {count}").format(count=len(data.get("attachments", []))),
    ]
    lines += sender_lines(ctx, data)
    ctx.say("\n".join(lines), Button(ctx._("Send"), "pt:send"), Button(ctx._("Edit"), "pt:edit"),
            Button(ctx._("Cancel"), "pt:cancel"))
    return confirm


def sender_lines(ctx: Ctx, data: dict) -> list[str]:
    """Who sends it, and for feedback what the choice means for the resident."""
    if data.get("anonymous"):
        return [ctx._("Sent anonymously: staff do not see who you are and cannot call you; "
                      "the answer still comes to you here. It is not handled as a complaint "
                      "or denunciation.")]
    if not data.get("full_name"):
        return []
    if data["kind"] == FEEDBACK:
        return [ctx._("Sent by: {name}, phone {phone} (staff can call you back)").format(
            name=data["full_name"], phone=data.get("phone") or "—")]
    return [ctx._("Sent by: {name}, {address}").format(name=data["full_name"],
                                                       address=data["home_address"])]


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
        if (offered := await _offer_similar(ctx, intake)) is not None:
            return offered
    return await submit(ctx, intake)


NEW_OF_KIND = {
    FEEDBACK: N_("Send as new feedback"),
    COMPLAINT: N_("Send as a new complaint"),
    DENUNCIATION: N_("Send as a new denunciation"),
}


async def _offer_similar(ctx: Ctx, intake: intake_service.Intake) -> object | None:
    """A similar open petition: one's own can be added to ("Bổ sung vào PA-…"), someone
    else's followed; None when there is none."""
    own = await intake_service.similar_own(ctx.session, intake, ctx.user.id, now=ctx.now)
    if own is not None:
        ctx.data["similar"] = own.code
        named = ctx._(NAMED[own.kind]).format(code=own.code)
        ctx.say(ctx._("You already sent something similar on {day}: {petition}, still being "
                      "handled:\n“{text}”\nAdd this text and its files to it (the staff "
                      "handling it are told), or send it as a new one?").format(
                          day=ctx.day(own.received_at), petition=named,
                          text=_excerpt(own.description)),
                Button(ctx._("Add to {code}").format(code=own.code), "pt:add"),
                Button(ctx._(NEW_OF_KIND[intake.kind]), "pt:send"))
        return duplicate
    similar = await intake_service.similar_open(ctx.session, intake, now=ctx.now,
                                                user_id=ctx.user.id)
    if similar is None:
        return None
    ctx.data["similar"] = similar.code
    ctx.say(ctx._("A similar petition about the same place is already being handled: "
                  "{code} (received {day}). You can follow that one and be told when "
                  "it is answered, or still send yours.").format(
                      code=similar.code, day=ctx.day(similar.received_at)),
            Button(ctx._("Follow that one"), "pt:follow"),
            Button(ctx._("Send mine anyway"), "pt:send"))
    return duplicate


def _excerpt(text: str, limit: int = 120) -> str:
    """The start of a text, cut at a word."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


async def duplicate(ctx: Ctx) -> object:
    """Add to one's own similar petition, follow someone else's, or send this one anyway."""
    if ctx.chosen == "pt:send":
        return await submit(ctx, _intake(ctx))
    if ctx.chosen == "pt:add":
        return await add_to_own(ctx)
    if ctx.chosen != "pt:follow":
        return reoffer(ctx)
    code = ctx.data.get("similar", "")
    similar = await service.by_code(ctx.session, code)
    if similar is None or similar.user_id == ctx.user.id:
        return reoffer(ctx)
    await Subscriptions(ctx.session).subscribe(ctx.user.id, f"petition:{similar.id}")
    return menu.show(ctx, ctx._("You will be told when {code} is answered. Your own text was "
                                "not sent.").format(code=code))


async def add_to_own(ctx: Ctx) -> object:
    """"Bổ sung vào PA-…": the text and files go to the earlier petition's timeline."""
    earlier = await service.by_code(ctx.session, ctx.data.get("similar", ""))
    intake = _intake(ctx)
    try:
        if earlier is None:
            raise service.PetitionError("missing", "the earlier petition is gone")
        await intake_service.add_to(ctx.session, earlier, intake, ctx.user, now=ctx.now,
                                    timezone=ctx.timezone, settings=petitions.settings_of(ctx))
    except service.PetitionError:
        ctx.say(ctx._("It can no longer be added to; send it as a new one instead?"),
                Button(ctx._(NEW_OF_KIND[intake.kind]), "pt:send"), Button(ctx._("Cancel"),
                                                                          "pt:cancel"))
        return confirm
    named = ctx._(NAMED[earlier.kind]).format(code=earlier.code)
    files = len(intake.attachments)
    text = ctx._("Added to {petition}. The staff handling it have been told.").format(
        petition=named)
    if files:
        text += " " + ctx.ngettext("{count} file was attached to it.",
                                   "{count} files were attached to it.", files).format(
                                       count=files)
    return menu.show(ctx, text)


async def edit_choice(ctx: Ctx) -> object:
    """Go back to one part; the review comes again afterwards."""
    ctx.data["editing"] = True
    match ctx.chosen:
        case "pt:edit:field":
            return petitions.ask_field(ctx)
        case "pt:edit:place":
            return await petitions.ask_hamlet(ctx)
        case "pt:edit:content":
            return petitions.ask_description(ctx)
        case "pt:edit:photos":
            ctx.data["attachments"] = []
            return petitions.ask_photos(ctx)
    ctx.data.pop("editing")
    return reoffer(ctx)


def _intake(ctx: Ctx) -> intake_service.Intake:
    data = ctx.data
    identity = None
    if data.get("full_name"):
        identity = intake_service.Identity(data["full_name"], data.get("home_address", ""),
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
    settings = petitions.settings_of(ctx)
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
    due = petition_cards.due_text(petition, ctx._, ctx.day) + "."
    if petition.kind == FEEDBACK:
        lines += [due, ctx._("You will be told here at each step.")]
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
            ctx._("The commune will tell you whether it is accepted."), due,
        ]
    lines += sender_lines(ctx, ctx.data) if petition.anonymous else []
    return menu.show(ctx, "\n".join(lines))
