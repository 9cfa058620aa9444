"""Comments on a disclosure open for consultation ("Góp ý", Art. 25): typed, previewed
before sending, counted ("còn gửi được 4 ý kiến"), and seen and withdrawn by their author
until the deadline ("Ý kiến của tôi").

Steps of the "disclosures" flow (bot.flows.disclosures), which shows the disclosure.
"""

from __future__ import annotations

# bot.flows.disclosures imports this module: its names are read at call time.
from bot.flows import disclosures, menu
from bot.flows.base import STAY, Ctx
from bot.flows.common import main_menu_button, reoffer
from bot.messages import Button
from bot.services import consultation
from bot.services.disclosures import DisclosureError
from storage.models import Disclosure
from storage.repositories import Disclosures

PREVIEW_IN_LIST = 200


async def _item(ctx: Ctx) -> Disclosure | None:
    return await Disclosures(ctx.session).get(ctx.data.get("id", 0))


async def detail_lines(ctx: Ctx, item: Disclosure) -> list[str]:
    """Under an open consultation: how many comments the person sent and may still send."""
    sent = len(await consultation.mine(ctx.session, item, ctx.user))
    if not sent or not consultation.consultation_open(item, ctx.now):
        return []
    return [ctx._("You have sent {sent} of the {most} comments allowed.").format(
        sent=sent, most=consultation.MAX_COMMENTS_PER_PERSON)]


async def detail_buttons(ctx: Ctx, item: Disclosure) -> list[Button]:
    """"Góp ý" while the person may still comment; "Ý kiến của tôi (N)" once they have."""
    buttons = []
    if (consultation.consultation_open(item, ctx.now)
            and await consultation.left(ctx.session, item, ctx.user)):
        buttons.append(Button(ctx._("Comment"), "dc:comment"))
    if sent := len(await consultation.mine(ctx.session, item, ctx.user)):
        buttons.append(Button(ctx._("My comments ({count})").format(count=sent), "dc:mine"))
    return buttons


async def ask_comment(ctx: Ctx) -> object:
    """Ask for the comment text (consent needed: the comment is kept with the hamlet)."""
    if not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    item = await _item(ctx)
    if item is None or not consultation.consultation_open(item, ctx.now):
        ctx.say(ctx._("Sorry, comments on this are closed."))
        return await disclosures.redetail(ctx) if item else await disclosures.open_disclosures(ctx)
    left = await consultation.left(ctx.session, item, ctx.user)
    if not left:
        return await disclosures.redetail(ctx, ctx._(
            "You have already sent the most comments allowed on this. You can see or "
            "withdraw them in “My comments”."))
    ctx.say(ctx._("Type your comment on “{title}” (up to 2,000 characters). It is kept with "
                  "your hamlet, without your name.").format(title=item.title) + "\n" +
            _left_text(ctx, left), Button(ctx._("Back"), "dc:detail"), main_menu_button(ctx))
    return comment_text


def _left_text(ctx: Ctx, left: int) -> str:
    return ctx.ngettext("You can send {count} more comment on this.",
                        "You can send {count} more comments on this.", left).format(count=left)


async def comment_text(ctx: Ctx) -> object:
    """The typed comment, shown back before it is sent."""
    if ctx.chosen == "dc:detail":
        return await disclosures.redetail(ctx)
    item = await _item(ctx)
    text = ctx.msg.text.strip()
    if item is None:
        return await disclosures.open_disclosures(ctx)
    if not text or ctx.chosen:
        ctx.say(ctx._("Please type your comment as text."), *ctx.offered)
        return STAY
    if len(text) > consultation.MAX_COMMENT:
        ctx.say(ctx._("Your comment has {count} characters; please shorten it to 2,000.")
                .format(count=len(text)), *ctx.offered)
        return STAY
    ctx.data["comment"] = text
    ctx.say(ctx._("Your comment on “{title}”:").format(title=item.title) + f"\n\n{text}\n\n" +
            ctx._("Send it? It is kept with your hamlet, without your name."),
            Button(ctx._("Send the comment"), "dc:c:send"), Button(ctx._("Edit"), "dc:c:edit"),
            Button(ctx._("Cancel"), "dc:c:cancel"))
    return comment_preview


async def comment_preview(ctx: Ctx) -> object:
    """Send the comment shown, type it again, or drop it."""
    item = await _item(ctx)
    if item is None:
        return await disclosures.open_disclosures(ctx)
    match ctx.chosen:
        case "dc:c:edit":
            ctx.say(ctx._("Type the comment again:"), Button(ctx._("Back"), "dc:detail"),
                    main_menu_button(ctx))
            return comment_text
        case "dc:c:cancel":
            ctx.data.pop("comment", None)
            return await disclosures.redetail(ctx, ctx._("The comment was not sent."))
        case "dc:c:send":
            return await _send(ctx, item)
    return reoffer(ctx)


async def _send(ctx: Ctx, item: Disclosure) -> object:
    try:
        await consultation.add_comment(ctx.session, item, ctx.user,
                                       ctx.data.pop("comment", ""), now=ctx.now)
    except DisclosureError as exc:
        reason = (ctx._("Sorry, comments on this are closed.") if "closed" in str(exc)
                  else ctx._("You have already sent the most comments allowed on this."))
        return await disclosures.redetail(ctx, reason)
    left = await consultation.left(ctx.session, item, ctx.user)
    lines = [ctx._("Thank you, your comment was received. The People's Committee will review "
                   "all comments and publish its response.")]
    lines.append(_left_text(ctx, left) if left else
                 ctx._("That was the last comment you can send on this."))
    lines.append(ctx._("You can see or withdraw your comments in “My comments” until the end "
                       "of {day}.").format(day=ctx.day(item.consult_until)))
    return await disclosures.redetail(ctx, "\n".join(lines))


async def show_mine(ctx: Ctx, intro: str = "") -> object:
    """"Ý kiến của tôi": the person's comments on this disclosure, each withdrawable while
    the consultation is open."""
    item = await _item(ctx)
    if item is None:
        return await disclosures.open_disclosures(ctx)
    comments = await consultation.mine(ctx.session, item, ctx.user)
    if not comments:
        return await disclosures.redetail(ctx, intro)
    lines = [intro, ctx._("Your comments on “{title}”:").format(title=item.title)]
    lines += [f"{n}. {ctx.day(c.created_at)}: {_short(c.text)}"
              for n, c in enumerate(comments, 1)]
    buttons = []
    if consultation.consultation_open(item, ctx.now):
        lines.append(ctx._("You can withdraw a comment until the end of {day}.").format(
            day=ctx.day(item.consult_until)))
        buttons = [Button(ctx._("Withdraw comment {number}").format(number=n), f"dc:wd:{c.id}")
                   for n, c in enumerate(comments, 1)]
    ctx.say("\n".join(line for line in lines if line), *buttons,
            Button(ctx._("Back"), "dc:detail"), main_menu_button(ctx))
    return my_comments


def _short(text: str) -> str:
    if len(text) <= PREVIEW_IN_LIST:
        return text
    return text[:PREVIEW_IN_LIST].rsplit(" ", 1)[0] + "…"


async def my_comments(ctx: Ctx) -> object:
    """A comment to withdraw (asked once more), withdrawn, or back to the disclosure."""
    chosen = ctx.chosen or ""
    item = await _item(ctx)
    if item is None:
        return await disclosures.open_disclosures(ctx)
    if chosen == "dc:detail":
        return await disclosures.redetail(ctx)
    if chosen == "dc:mine":
        return await show_mine(ctx)
    if (comment_id := disclosures.number(chosen, "dc:wd:")) is not None:
        comment = next((c for c in await consultation.mine(ctx.session, item, ctx.user)
                        if c.id == comment_id), None)
        if comment is None:
            return await show_mine(ctx)
        ctx.say(ctx._("Withdraw this comment? It will be deleted and no longer counted.") +
                f"\n\n{comment.text}",
                Button(ctx._("Withdraw it"), f"dc:wdok:{comment.id}"),
                Button(ctx._("Keep it"), "dc:mine"))
        return my_comments
    if (comment_id := disclosures.number(chosen, "dc:wdok:")) is not None:
        try:
            await consultation.withdraw(ctx.session, item, ctx.user, comment_id, now=ctx.now)
        except DisclosureError as exc:
            note = (ctx._("The consultation is closed: comments can no longer be withdrawn.")
                    if "closed" in str(exc) else "")
            return await show_mine(ctx, note)
        left = await consultation.left(ctx.session, item, ctx.user)
        return await show_mine(ctx, ctx._("Your comment was withdrawn.") + " " +
                               _left_text(ctx, left))
    return reoffer(ctx)
