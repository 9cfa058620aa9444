"""Staff publish a disclosure from the chat: document + caption, topic, dates, preview.

Reached by the staff menu entry, by /publish, or by a staff member sending a document at
the main menu. The role is checked when the flow starts and again when publishing.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot import typed
from bot.flows import menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, record_refusal, reoffer
from bot.messages import Button
from bot.services import disclosures as service
from bot.typed import ascii_int
from bot.workdays import Calendar


def _today(ctx: Ctx) -> date:
    return service.local_day(ctx.now, ctx.timezone)


def unreadable_day(ctx: Ctx) -> str:
    """A typed day that could not be read at all."""
    day = _today(ctx)  # the format matters here, not the day
    return ctx._("I could not read that date. Type it like {day}, {short_year} or {short}, "
                 "or choose:").format(day=day.strftime("%d/%m/%Y"),
                                      short_year=day.strftime("%d/%m/%y"),
                                      short=day.strftime("%d/%m"))


def past_day(ctx: Ctx, day: date) -> str:
    """A typed day read correctly but already past."""
    return ctx._("{day} has already passed. Type a later date, or choose:").format(
        day=ctx.day(day))


async def not_allowed(ctx: Ctx) -> object:
    """A resident tried a staff action."""
    record_refusal(ctx, "publish")
    return menu.show(ctx, ctx._("Only commune staff can publish information."))


async def start(ctx: Ctx) -> object:
    """The staff entry: ask for the document and its caption."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    ctx.data.clear()
    ctx.say(ctx._("Send the document to disclose (PDF, Word or Excel) with a caption, or just "
                  "type the text. The first line is the title; the next lines are the summary "
                  "residents read."), main_menu_button(ctx))
    return material


async def start_with_document(ctx: Ctx) -> object:
    """A staff member sent a document at the main menu: use it at once."""
    ctx.data.clear()
    return await material(ctx)


async def material(ctx: Ctx) -> object:
    """The document and/or the text (title on the first line)."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.msg.attachments:
        attachment = ctx.msg.attachments[0]
        problem = _document_problem(ctx, attachment.kind, attachment.name, attachment.size)
        if problem:
            ctx.say(problem, *ctx.offered)
            return STAY
        ctx.data["attachment"] = {**vars(attachment), "channel": ctx.msg.channel}
    text = ctx.msg.text.strip()
    if text:
        title, _, body = text.partition("\n")
        ctx.data["title"], ctx.data["body"] = title.strip(), body.strip()
    if not ctx.data.get("title"):
        if ctx.data.get("attachment"):
            ctx.say(ctx._("File received. Now type the title (first line) and a short summary "
                          "(next lines):"), *ctx.offered)
        else:
            ctx.say(ctx._("Please send a document or type the title and the text."),
                    *ctx.offered)
        return STAY
    if len(ctx.data["title"]) > service.MAX_TITLE:
        ctx.data.pop("title")
        ctx.say(ctx._("The title is too long (at most 300 characters). Please type it again, "
                      "shorter:"), *ctx.offered)
        return STAY
    return ask_category(ctx)


def _document_problem(ctx: Ctx, kind: str, name: str | None, size: int | None) -> str | None:
    suffix = "." + (name or "").rsplit(".", 1)[-1].lower() if name and "." in name else ""
    if kind != "document" or suffix not in service.DOCUMENT_TYPES:
        return ctx._("Only documents can be published (PDF, Word, Excel, OpenDocument). "
                     "Please send the file as a document.")
    if size and size > service.MAX_FILE_BYTES:
        return ctx._("The file is larger than {limit} MB. Please send a smaller file.").format(
            limit=service.MAX_FILE_BYTES // 1048576)
    return None


def ask_category(ctx: Ctx) -> object:
    """The Art. 11 topic."""
    buttons = [Button(f"{n}. {service.category_label(n, ctx.user.locale)}", f"pub:cat:{n}")
               for n in service.CATEGORIES]
    ctx.say(ctx._("Which topic of Article 11 does it belong to?"), *buttons,
            main_menu_button(ctx))
    return category


async def category(ctx: Ctx) -> object:
    """Keep the topic, ask for the decision date."""
    chosen = (ctx.chosen or "").removeprefix("pub:cat:")
    if ascii_int(chosen) is None or int(chosen) not in service.CATEGORIES:
        return reoffer(ctx)
    ctx.data["category"] = int(chosen)
    ctx.say(ctx._("What is the date of the decision or document? Type it (e.g. {day}), "
                  "or choose:").format(day=typed.example_day(_today(ctx), -3)),
            Button(ctx._("Today"), "pub:today"), Button(ctx._("Skip"), "pub:skip"),
            main_menu_button(ctx))
    return decided


async def decided(ctx: Ctx) -> object:
    """Keep the decision date, ask for the posting period."""
    if ctx.chosen == "pub:today":
        ctx.data["decided_on"] = _today(ctx).isoformat()
    elif ctx.chosen == "pub:skip":
        ctx.data["decided_on"] = None
    elif (day := typed.day(ctx.msg.text, _today(ctx))) is None:
        return reoffer(ctx, unreadable_day(ctx))
    elif day > _today(ctx):
        return reoffer(ctx, ctx._("The decision date cannot be in the future. Type the day "
                                  "it was signed, or choose:"))
    else:
        ctx.data["decided_on"] = day.isoformat()
    until = _today(ctx) + timedelta(days=service.MIN_POSTING_DAYS)
    buttons = [Button(ctx._("30 days (until {day})").format(day=ctx.day(until)), "pub:30"),
               Button(ctx._("Permanently"), "pub:permanent")]
    if ctx.data["category"] in service.PERMANENT_CATEGORIES:
        buttons.reverse()
    ctx.say(ctx._("How long is it posted? Choose, or type the last day (e.g. {day}):").format(
        day=typed.example_day(_today(ctx), 60)),
            *buttons, main_menu_button(ctx))
    return period


async def period(ctx: Ctx) -> object:
    """Keep the posting period, ask about a consultation."""
    if ctx.chosen == "pub:30":
        ctx.data.update(permanent=False, posted_until=None)
    elif ctx.chosen == "pub:permanent":
        ctx.data.update(permanent=True, posted_until=None)
    elif (day := typed.day(ctx.msg.text, _today(ctx), upcoming=True)) is None:
        return reoffer(ctx, unreadable_day(ctx))
    elif day < _today(ctx):
        return reoffer(ctx, past_day(ctx, day))
    else:
        ctx.data.update(permanent=False, posted_until=day.isoformat())
    until = _today(ctx) + timedelta(days=service.MIN_CONSULTATION_DAYS)
    ctx.say(ctx._("Do you want residents' comments on it (consultation)? Choose, or type the "
                  "last day for comments:"),
            Button(ctx._("No comments"), "pub:noconsult"),
            Button(ctx._("20 days (until {day})").format(day=ctx.day(until)), "pub:consult20"),
            main_menu_button(ctx))
    return consultation


async def consultation(ctx: Ctx) -> object:
    """Keep the consultation deadline, show the preview."""
    if ctx.chosen == "pub:noconsult":
        ctx.data["consult_until"] = None
    elif ctx.chosen == "pub:consult20":
        until = _today(ctx) + timedelta(days=service.MIN_CONSULTATION_DAYS)
        ctx.data["consult_until"] = until.isoformat()
    elif (day := typed.day(ctx.msg.text, _today(ctx), upcoming=True)) is None:
        return reoffer(ctx, unreadable_day(ctx))
    elif day <= _today(ctx):
        return reoffer(ctx, past_day(ctx, day))
    else:
        ctx.data["consult_until"] = day.isoformat()
    return preview(ctx)


def _draft(ctx: Ctx) -> service.Draft:
    data = ctx.data

    def day(key: str) -> date | None:
        return date.fromisoformat(data[key]) if data.get(key) else None

    return service.Draft(
        category=data["category"], title=data["title"], body=data.get("body", ""),
        decided_on=day("decided_on"), posted_until=day("posted_until"),
        permanent=data.get("permanent"), consult_until=day("consult_until"),
        attachment=data.get("attachment"),
    )


def preview(ctx: Ctx) -> object:
    """What will be published, the legal warnings, and Publish / Cancel."""
    draft = _draft(ctx)
    lines = [ctx._("Please check before publishing:"), "",
             draft.title, "📁 " + service.category_label(draft.category, ctx.user.locale)]
    if draft.body:
        lines.append(draft.body[:500] + ("…" if len(draft.body) > 500 else ""))
    if draft.attachment:
        lines.append(ctx._("File: {name}").format(name=draft.attachment.get("name") or "—"))
    if draft.permanent:
        lines.append(ctx._("Posted permanently"))
    else:
        end = draft.posted_until or _today(ctx) + timedelta(days=service.MIN_POSTING_DAYS)
        lines.append(ctx._("Posted until {day}").format(day=ctx.day(end)))
    if draft.consult_until:
        lines.append(ctx._("Comments until {day}").format(day=ctx.day(draft.consult_until)))
    for warning in service.warnings(draft, _today(ctx), Calendar.of_commune(ctx.commune)):
        lines.append("⚠️ " + ctx._(warning))
    ctx.say("\n".join(lines), Button(ctx._("Publish"), "pub:publish"),
            Button(ctx._("Cancel"), "pub:cancel"))
    return confirm


async def confirm(ctx: Ctx) -> object:
    """Publish (the role is checked again), or drop the draft."""
    if ctx.chosen == "pub:cancel":
        return menu.show(ctx, ctx._("Not published. Nothing was saved."))
    if ctx.chosen != "pub:publish":
        return reoffer(ctx)
    if not ctx.is_staff:
        return await not_allowed(ctx)
    try:
        item = await service.publish(
            ctx.session, _draft(ctx), actor=f"{ctx.msg.channel}:{ctx.msg.user_id}",
            now=ctx.now, timezone=ctx.timezone,
        )
    except service.DisclosureError:
        return menu.show(ctx, ctx._("This could not be published; please check the text and "
                                    "try again."))
    return menu.show(ctx, ctx._("Published (number {number}). Residents who follow this topic "
                                "will be told.").format(number=item.id))


FLOW = Flow.of("publish", material, category, decided, period, consultation, confirm)
