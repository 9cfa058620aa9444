"""The data subject's rights from Settings (PDPL 2025, Decree 356/2025): see all my data as
a message and as a file, correct my name and phone, withdraw consent, delete my data.

Withdrawal and deletion first list what will stop or be cancelled and what the law keeps.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from bot.flows import onboarding
from bot.flows.base import END, STAY, Ctx, Flow
from bot.flows.common import (
    CHANNEL_NAMES,
    LANGUAGE_NAMES,
    committee_name,
    main_menu_button,
    office_contact,
    reoffer,
)
from bot.messages import Attachment, Button, Reply
from bot.services import personal_data
from bot.services import sessions as session_service
from bot.services.broadcast_audience import HAMLET_NOTICES
from bot.services.petition_statuses import NAMED, resident_label
from bot.services.session_rules import MAX_NAME, WAITLISTED
from storage.repositories import Subscriptions, Users

SHOWN = 5  # items of each kind listed in the message (the file has them all)


async def show(ctx: Ctx) -> object:
    """"My data": everything kept, in plain words, with the file and correction offered."""
    data = await personal_data.gather(ctx.session, ctx.user)
    ctx.say("\n".join(_summary(ctx, data)),
            Button(ctx._("Get it as a file"), "rights:file"),
            Button(ctx._("Correct name or phone"), "rights:correct"),
            Button(ctx._("Settings"), "rights:back"), main_menu_button(ctx))
    return choice


def _summary(ctx: Ctx, data: personal_data.PersonalData) -> list[str]:
    profile, user = data.profile, ctx.user
    lines = [
        ctx._("This is what {committee} keeps about you:").format(committee=committee_name(ctx)),
        ctx._("• Channel: {channel}, account id {id}").format(
            channel=CHANNEL_NAMES.get(user.channel, user.channel), id=user.external_id),
        ctx._("• Language: {language}").format(language=LANGUAGE_NAMES.get(user.locale)),
        ctx._("• Hamlet: {hamlet}").format(hamlet=profile["hamlet"] or ctx._("not chosen")),
        ctx._("• Name: {name}").format(name=user.display_name or ctx._("not kept")),
        ctx._("• Phone: {phone}").format(phone=user.phone or ctx._("not kept")),
        ctx._("• First contact: {when}").format(when=ctx.when(user.created_at)),
    ]
    for consent in data.consents:
        if consent["purpose"] != personal_data.PRIVACY:
            continue
        line = (ctx._("• Consent withdrawn: notice version {version}, {when}")
                if consent["withdrawal"] else
                ctx._("• Consent to the privacy notice: version {version}, given {when}")
                if consent["granted"] else
                ctx._("• Privacy notice declined: version {version}, {when}"))
        lines.append(line.format(version=consent["version"], when=_when(ctx, consent["at"])))
    counts = (
        (ctx.ngettext("{n} petition", "{n} petitions", len(data.petitions)), data.petitions),
        (ctx.ngettext("{n} session registration", "{n} session registrations",
                      len(data.registrations)), data.registrations),
        (ctx.ngettext("{n} question for a session", "{n} questions for sessions",
                      len(data.questions)), data.questions),
        (ctx.ngettext("{n} comment on a consultation", "{n} comments on consultations",
                      len(data.comments)), data.comments),
        (ctx.ngettext("{n} followed topic or notice", "{n} followed topics and notices",
                      len(data.follows)), data.follows),
        (ctx.ngettext("{n} message sent to you", "{n} messages sent to you",
                      len(data.notices)), data.notices),
    )
    lines.append(ctx._("Also kept: {list}.").format(
        list="; ".join(label.format(n=len(rows)) for label, rows in counts)))
    lines += [f"• {ctx._(NAMED[p['kind']]).format(code=p['code'])}: "  # "Khiếu nại KN-…"
              f"{ctx._(resident_label(p['kind'], p['status']))}"
              for p in data.petitions[-SHOWN:]]
    lines += [ctx._("• Registration for “{topic}”: ticket {ticket}").format(
        topic=r["session"], ticket=r["ticket"]) for r in data.registrations[-SHOWN:]]
    lines += [ctx._("• Question: {text}").format(text=_short(q["text"]))
              for q in data.questions[-SHOWN:]]
    lines += [ctx._("• Comment on “{title}”: {text}").format(title=c["on"], text=_short(c["text"]))
              for c in data.comments[-SHOWN:]]
    lines.append(ctx._("The interaction log keeps only an anonymous code for you, never what "
                       "you type. Tap “Get it as a file” for everything, in full."))
    return lines


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _when(ctx: Ctx, iso: str | None) -> str:
    return ctx.when(datetime.fromisoformat(iso)) if iso else ""


async def _settings(ctx: Ctx, intro: str = "") -> object:
    from bot.flows import settings  # settings imports this module

    return await settings.overview(ctx, intro)


async def choice(ctx: Ctx) -> object:
    """The file, the correction, or back to Settings."""
    match ctx.chosen:
        case "rights:file":
            return send_file(ctx)
        case "rights:correct":
            return ask_correction(ctx)
        case "rights:back":
            return await _settings(ctx)
    return reoffer(ctx)


def send_file(ctx: Ctx) -> object:
    """Make the file after the turn and send it to this chat through the outbox."""
    db, channel, external_id = ctx.db, ctx.user.channel, ctx.user.external_id
    folder = personal_data.personal_folder((ctx.data_dir or Path("./data")).resolve())
    path = folder / f"{ctx.now:%Y%m%d-%H%M%S}-{secrets.token_hex(6)}.json"
    text = ctx._("Your data kept by {committee}, in full (a JSON file; any text editor "
                 "opens it).").format(committee=committee_name(ctx))
    name = ctx._("my-data") + f"-{ctx.now:%Y-%m-%d}.json"

    async def make() -> list[Reply]:
        async with db.session() as session:
            user = await Users(session).get(channel, external_id)
            data = await personal_data.gather(session, user)
        personal_data.write_file(data, path)
        return [Reply(text, attachments=(Attachment(
            "document", str(path), name=name, mime_type="application/json",
            size=path.stat().st_size),))]

    ctx.after(make)
    ctx.say(ctx._("Preparing the file; it will be sent here in a moment."),
            Button(ctx._("Settings"), "rights:back"), main_menu_button(ctx))
    return choice


# --- correcting name and phone ------------------------------------------------------------


def ask_correction(ctx: Ctx, intro: str = "") -> object:
    """Show the name and phone kept, and what can be changed."""
    user = ctx.user
    text = ctx._("Name: {name}\nPhone: {phone}\n\nWhat would you like to correct?").format(
        name=user.display_name or ctx._("not kept"), phone=user.phone or ctx._("not kept"))
    buttons = [Button(ctx._("Name"), "rights:name"), Button(ctx._("Phone"), "rights:phone")]
    if user.phone:
        buttons.append(Button(ctx._("Remove my phone number"), "rights:nophone"))
    ctx.say(f"{intro}\n\n{text}".strip(), *buttons, Button(ctx._("Settings"), "rights:back"))
    return correction


async def correction(ctx: Ctx) -> object:
    """Which field to correct."""
    match ctx.chosen:
        case "rights:name":
            ctx.say(ctx._("Please type your full name as it should be kept."),
                    Button(ctx._("Back"), "rights:correct"))
            return new_name
        case "rights:phone":
            ctx.say(ctx._("Please type your phone number (for example 0912 345 678)."),
                    Button(ctx._("Back"), "rights:correct"))
            return new_phone
        case "rights:nophone":
            await personal_data.correct(ctx.session, ctx.user, now=ctx.now, clear_phone=True)
            return ask_correction(ctx, ctx._("Your phone number has been removed."))
        case "rights:back":
            return await _settings(ctx)
    return reoffer(ctx)


def _corrected(ctx: Ctx, what: str) -> object:
    note = ctx._("Saved: {what}. Your places at coming dialogue sessions carry it too. "
                 "Petitions already sent keep the details they were sent with; to correct "
                 "one, contact {office}.").format(what=what, office=office_contact(ctx))
    return ask_correction(ctx, note)


async def new_name(ctx: Ctx) -> object:
    """The corrected full name."""
    if ctx.chosen == "rights:correct":
        return ask_correction(ctx)
    name = " ".join(ctx.msg.text.split())
    if not 2 <= len(name) <= MAX_NAME or not any(ch.isalpha() for ch in name):
        ctx.say(ctx._("Please type your full name (letters, at most {n} characters).").format(
            n=MAX_NAME), *ctx.offered)
        return STAY
    await personal_data.correct(ctx.session, ctx.user, now=ctx.now, name=name)
    return _corrected(ctx, ctx._("your name is now {name}").format(name=name))


async def new_phone(ctx: Ctx) -> object:
    """The corrected phone number (typed, or a shared contact)."""
    if ctx.chosen == "rights:correct":
        return ask_correction(ctx)
    typed = ctx.msg.contact.phone if ctx.msg.contact else ctx.msg.text
    number = session_service.normal_phone(typed or "")
    if number is None:
        ctx.say(ctx._("That does not look like a phone number. Please type it again (for "
                      "example 0912 345 678)."), *ctx.offered)
        return STAY
    await personal_data.correct(ctx.session, ctx.user, now=ctx.now, phone=number)
    return _corrected(ctx, ctx._("your phone number is now {phone}").format(phone=number))


# --- withdrawing consent and deleting -----------------------------------------------------


async def _consequences(ctx: Ctx, deleting: bool) -> str:
    """What stops or is cancelled, and what the law keeps (and why), before confirming."""
    user = ctx.user
    follows = await Subscriptions(ctx.session).topics_of(user.id)
    stops = []
    if topics := len(follows - {HAMLET_NOTICES}):
        stops.append(ctx.ngettext("• You stop following {n} topic of public information.",
                                  "• You stop following {n} topics of public information.",
                                  topics).format(n=topics))
    if HAMLET_NOTICES in follows:
        stops.append(ctx._("• Your hamlet's notices stop coming to this chat."))
    for registration, item in await personal_data.upcoming_registrations(
            ctx.session, user, ctx.now):
        line = (ctx._("• Your place on the waiting list for “{topic}” ({when}) is given up.")
                if registration.status == WAITLISTED else
                ctx._("• Your seat at “{topic}” ({when}) is given up; the next person waiting "
                      "gets it."))
        stops.append(line.format(topic=item.topic, when=ctx.when(item.starts_at)))
    if user.consent_version is not None:
        stops.append(ctx._("• Sending petitions, registering for sessions and commenting "
                           "need your consent again."))
    kept = [ctx._("• {code}: kept by the commune and still handled; its answer reaches you "
                  "here.").format(code=p.code)
            for p in await personal_data.kept_petitions(ctx.session, user)]
    if kept:
        kept.insert(0, ctx._("Your petitions stay with the commune: the laws on complaints, "
                             "denunciations and archives require it to handle and keep them "
                             "(and your identity in a complaint or denunciation)."))
    kept.append(ctx._("• The record of your consent decisions (what you agreed to, when and "
                      "on which version of the notice): it proves how your data was "
                      "processed, so it is never deleted; this withdrawal is added to it.")
                if user.consent_version is not None else
                ctx._("• The record of your consent decisions (what you decided, when and on "
                      "which version of the notice): it proves how your data was processed, "
                      "so it is never deleted."))
    sections = ["\n".join([ctx._("What stops:"), *stops])] if stops else []
    if deleting:
        sections.append(ctx._("What is erased:") + "\n" + ctx._(
            "• Your hamlet, name and phone number; the names, addresses and phone numbers on "
            "your session registrations and your feedback; the texts of the messages sent to "
            "you. Your comments and questions stay without your name."))
    else:
        sections.append(ctx._("Your name, phone number and hamlet stay kept but unused until "
                              "you agree again or choose “Delete my data”."))
    sections.append("\n".join([ctx._("What the law requires to be kept:"), *kept]))
    return "\n\n".join(sections)


async def confirm_withdrawal(ctx: Ctx) -> object:
    """List what withdrawing consent stops and keeps, then ask."""
    if ctx.user.consent_version is None:
        return await _settings(ctx, ctx._("You have not given consent, so there is "
                                                  "nothing to withdraw."))
    text = ctx._("Withdraw your consent to the privacy notice?") + "\n\n" + \
        await _consequences(ctx, deleting=False)
    ctx.say(text, Button(ctx._("Yes, withdraw my consent"), "rights:withdraw:yes"),
            Button(ctx._("No, keep it"), "rights:withdraw:no"))
    return withdrawal


async def withdrawal(ctx: Ctx) -> object:
    """Record the withdrawal (never by deleting consent records), or go back."""
    if ctx.chosen == "rights:withdraw:no":
        return await _settings(ctx, ctx._("Your consent stays as it was."))
    if ctx.chosen != "rights:withdraw:yes":
        return reoffer(ctx)
    await personal_data.withdraw_consent(ctx.session, ctx.user, now=ctx.now,
                                         timezone=ctx.timezone,
                                         version=onboarding.PRIVACY_NOTICE_VERSION)
    return await _settings(ctx, ctx._(
        "Your consent was withdrawn at {when}. You can still read public information. "
        "To agree again, tap “Review the privacy notice” in the main menu.").format(
        when=ctx.when(ctx.now)))


async def confirm_deletion(ctx: Ctx) -> object:
    """List what deleting cancels, erases and keeps, then ask: it cannot be undone."""
    text = ctx._("Delete your data? This cannot be undone.") + "\n\n" + \
        await _consequences(ctx, deleting=True)
    ctx.say(text, Button(ctx._("Yes, delete"), "delete:yes"),
            Button(ctx._("No, keep it"), "delete:no"))
    return deletion


async def deletion(ctx: Ctx) -> object:
    """Erase the personal data (consent records and petitions stay), or go back."""
    if ctx.chosen == "delete:no":
        return await _settings(ctx, ctx._("Nothing was deleted."))
    if ctx.chosen != "delete:yes":
        return reoffer(ctx)
    await personal_data.forget(ctx.session, ctx.user, now=ctx.now, timezone=ctx.timezone,
                               version=onboarding.PRIVACY_NOTICE_VERSION)
    ctx.say(ctx._(
        "Your data has been deleted. The interaction log keeps only an anonymous code "
        "that cannot identify you. Send any message whenever you want to use the assistant again."
    ))
    return END


FLOW = Flow.of("data_rights", choice, correction, new_name, new_phone, withdrawal, deletion)
