"""Hamlet heads and staff send a notice from the chat: content, hamlets, audience, time
(now, urgent, or later), then a preview that names the sender and counts the audience, and
warns before sending to nobody. "Thông báo đã gửi" is in bot.flows.notice_history.

A hamlet head may pick only the hamlets they are bound to (checked again by the service);
staff may pick any or all. A hamlet head who forwards a message to the bot at the main menu
starts here with it.
"""

from __future__ import annotations

from datetime import datetime

from bot import typed
from bot.flows import menu, notice_history
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, reoffer, today
from bot.flows.notice_history import actor
from bot.messages import Attachment, Button
from bot.services import broadcasts
from bot.services.broadcast_audience import (
    Reach,
    announces,
    commune_title,
    hamlet_head_title,
)
from bot.services.broadcast_audience import reach as audience_reach
from bot.typed import ascii_int
from storage.repositories import Hamlets, RoleGrants

SENDERS = frozenset({"staff", "admin", "hamlet_head"})


def may_send(ctx: Ctx) -> bool:
    """Hamlet heads and staff send notices."""
    return bool(ctx.roles & SENDERS)


async def own_hamlets(ctx: Ctx) -> list[int] | None:
    """The hamlets a hamlet head is bound to; None for staff (any hamlet)."""
    if ctx.is_staff:
        return None
    grants = await RoleGrants(ctx.session).of(ctx.msg.channel, ctx.msg.user_id)
    return sorted({g.hamlet_id for g in grants if g.role == "hamlet_head" and g.hamlet_id})


async def start(ctx: Ctx) -> object:
    """The "Gửi thông báo" entry."""
    if not may_send(ctx):
        return menu.show(ctx, ctx._("Only hamlet heads and commune staff can send notices."))
    ctx.data.clear()
    ctx.say(ctx._("Type the notice, or send a photo or document with a caption:"),
            Button(ctx._("Notices sent"), "nt:mine"), main_menu_button(ctx))
    return content


async def start_with_message(ctx: Ctx) -> object:
    """A hamlet head forwarded something at the main menu: use it as the notice."""
    ctx.data.clear()
    return await content(ctx)


async def content(ctx: Ctx) -> object:
    """Keep the text and the file, then ask for the hamlets."""
    if ctx.chosen == "nt:mine":
        return await notice_history.show_mine(ctx)
    if not may_send(ctx):
        return menu.show(ctx, ctx._("Only hamlet heads and commune staff can send notices."))
    text = ctx.msg.text.strip()
    files = [vars(a).copy() for a in ctx.msg.attachments
             if a.kind in ("photo", "image", "document")]
    if not text and not files:
        ctx.say(ctx._("Please type the notice, or send a photo or document."), *ctx.offered)
        return STAY
    if len(text) > broadcasts.MAX_TEXT:
        ctx.say(ctx._("The notice is too long ({count} characters, at most 8,000). Please "
                      "shorten it.").format(count=len(text)), *ctx.offered)
        return STAY
    ctx.data.update(text=text, files=files, hamlets=[])
    return await ask_hamlets(ctx)


async def ask_hamlets(ctx: Ctx, edit: bool = False) -> object:
    """Tick the hamlets (✓), then "Xong"."""
    allowed = await own_hamlets(ctx)
    hamlets = [h for h in await Hamlets(ctx.session).active()
               if allowed is None or h.id in allowed]
    if not hamlets:
        return menu.show(ctx, ctx._("You are not bound to any hamlet yet; ask the commune's "
                                    "administrator."))
    chosen = set(ctx.data.get("hamlets", []))
    buttons = [Button(("✓ " if h.id in chosen else "") + h.name, f"nt:h:{h.id}")
               for h in hamlets]
    if allowed is None:
        buttons.append(Button(ctx._("All hamlets"), "nt:all"))
    buttons.append(Button(ctx._("Done"), "nt:done"))
    ctx.say(ctx._("Which hamlets? Tap to tick (✓), then “Done”."), *buttons,
            main_menu_button(ctx), edit=edit)
    return hamlets_step


async def hamlets_step(ctx: Ctx) -> object:
    """Tick or untick a hamlet, all of them, or go on."""
    chosen = ctx.chosen or ""
    picked: list[int] = ctx.data.setdefault("hamlets", [])
    if chosen.startswith("nt:h:") and ascii_int(chosen[5:]) is not None:
        hamlet_id = int(chosen[5:])
        allowed = await own_hamlets(ctx)
        if allowed is not None and hamlet_id not in allowed:
            return reoffer(ctx)
        if hamlet_id in picked:
            picked.remove(hamlet_id)
        else:
            picked.append(hamlet_id)
        return await ask_hamlets(ctx, edit=True)
    if chosen == "nt:all" and ctx.is_staff:
        ctx.data.update(hamlets=[], all=True)
        return ask_audience(ctx)
    if chosen == "nt:done":
        if not picked:
            ctx.say(ctx._("Please tick at least one hamlet."), *ctx.offered)
            return STAY
        ctx.data["all"] = False
        return ask_audience(ctx)
    return reoffer(ctx)


def ask_audience(ctx: Ctx) -> object:
    """Groups, residents who opted in, or both."""
    ctx.say(ctx._("Who should get it?"),
            Button(ctx._("The hamlet groups"), "nt:aud:groups"),
            Button(ctx._("Residents who receive hamlet notices"), "nt:aud:residents"),
            Button(ctx._("Both"), "nt:aud:both"), main_menu_button(ctx))
    return audience


async def audience(ctx: Ctx) -> object:
    """Keep the audience, ask when (or straight back to the preview after a change)."""
    chosen = (ctx.chosen or "").removeprefix("nt:aud:")
    if chosen not in broadcasts.AUDIENCES:
        return reoffer(ctx)
    ctx.data["audience"] = chosen
    if "urgent" in ctx.data:  # changed from the preview
        return await preview(ctx)
    ctx.say(ctx._("Send now, or type a day and time (e.g. {day} 07:00)? Residents get "
                  "notices in private only from 06:30 to 21:00; at night they wait for the "
                  "morning unless the notice is urgent.").format(
                      day=typed.example_day(today(ctx), 1)),
            Button(ctx._("Send now"), "nt:now"),
            Button(ctx._("Urgent: send now, even at night"), "nt:urgent"),
            main_menu_button(ctx))
    return when


async def when(ctx: Ctx) -> object:
    """Now, urgent (asked to confirm), or a time in the future; then the preview."""
    ctx.data["urgent"] = False
    if ctx.chosen == "nt:urgent":
        ctx.say(ctx._("An urgent notice reaches every recipient at once, even at night "
                      "(21:00–06:30), and may wake people up. Use it only for emergencies: "
                      "floods, storms, fire, epidemics. Send this notice as urgent?"),
                Button(ctx._("Yes, it is urgent"), "nt:urgent:yes"),
                Button(ctx._("No, send it normally"), "nt:now"), main_menu_button(ctx))
        return urgent
    if ctx.chosen == "nt:now":
        ctx.data["at"] = None
    elif (moment := typed.moment(ctx.msg.text, ctx.timezone, today(ctx))) is None:
        return reoffer(ctx, ctx._("I could not read the day and time. Type them like "
                                  "{day} 07:00, {short} 7h or \"tomorrow 7h\", or "
                                  "choose:").format(
                                      day=typed.example_day(today(ctx), 1),
                                      short=typed.example_short_day(today(ctx), 1)))
    elif moment <= ctx.now:
        return reoffer(ctx, ctx._("{when} has already passed. Type a day and time in the "
                                  "future, or choose:").format(when=ctx.when(moment)))
    else:
        ctx.data["at"] = moment.isoformat()
    return await preview(ctx)


async def urgent(ctx: Ctx) -> object:
    """Confirm the urgent choice, or send it normally."""
    if ctx.chosen == "nt:urgent:yes":
        ctx.data.update(urgent=True, at=None)
        return await preview(ctx)
    if ctx.chosen == "nt:now":
        ctx.data.update(urgent=False, at=None)
        return await preview(ctx)
    return reoffer(ctx)


async def _sender(ctx: Ctx) -> str:
    """Who speaks in the first line: the commune for staff, else the hamlet's head."""
    if ctx.is_staff:
        return commune_title(ctx.commune, ctx.user.locale)
    chosen = [h for h in await Hamlets(ctx.session).active() if h.id in ctx.data["hamlets"]]
    return hamlet_head_title(chosen, ctx.user.locale)


def _audience_lines(ctx: Ctx, reach: Reach) -> list[str]:
    """The audience in numbers, one line per kind of recipient that applies."""
    lines = []
    if ctx.data["audience"] != "residents":
        lines.append(ctx.ngettext("• {count} linked hamlet group", "• {count} linked hamlet "
                                  "groups", reach.groups).format(count=reach.groups))
        if reach.relay_heads:
            lines.append(ctx.ngettext(
                "  (Zalo groups: {count} hamlet head forwards it there)",
                "  (Zalo groups: {count} hamlet heads forward it there)",
                reach.relay_heads).format(count=reach.relay_heads))
    if ctx.data["audience"] != "groups":
        lines.append(ctx.ngettext("• {count} resident who opted in to hamlet notices",
                                  "• {count} residents who opted in to hamlet notices",
                                  reach.residents).format(count=reach.residents))
    return lines


async def preview(ctx: Ctx) -> object:
    """What will go out, from whom, to how many, when: "Gửi", change who, or "Hủy"."""
    data = ctx.data
    names = [h.name for h in await Hamlets(ctx.session).active() if h.id in data["hamlets"]]
    where = ctx._("all hamlets") if data.get("all") else ", ".join(names)
    data["sender"] = await _sender(ctx)
    if data.get("urgent"):
        moment = ctx._("now, URGENT: delivered at once, even at night")
    elif data.get("at"):
        moment = ctx.when(datetime.fromisoformat(data["at"]))
    else:
        moment = ctx._("now (private chats at night get it at 06:30)")
    reach = await audience_reach(ctx.session, data["hamlets"], data["audience"])
    lines = [ctx._("Please check the notice:"), "", announces(data["sender"], ctx.user.locale),
             data["text"] or "—"]
    if data["files"]:
        lines.append(ctx._("Files: {count}").format(count=len(data["files"])))
    lines += ["", ctx._("To: {where}").format(where=where), *_audience_lines(ctx, reach),
              ctx._("When: {moment}").format(moment=moment)]
    change = (Button(ctx._("Change who gets it"), "nt:change:aud"),
              Button(ctx._("Change hamlets"), "nt:change:hamlets"))
    if reach.nobody:
        lines += ["", "⚠️ " + ctx._(
            "Nobody would receive this notice: the chosen hamlets have no linked group and no "
            "resident who opted in to hamlet notices for this audience. Change who gets it, "
            "or cancel. (Residents turn hamlet notices on in “Settings”; an admin links a "
            "hamlet's group.)")]
        ctx.say("\n".join(lines), *change, Button(ctx._("Cancel"), "nt:cancel"))
        return confirm
    ctx.say("\n".join(lines), Button(ctx._("Send"), "nt:send"), *change,
            Button(ctx._("Cancel"), "nt:cancel"))
    return confirm


async def confirm(ctx: Ctx) -> object:
    """Queue it (the service checks the hamlets again), change who gets it, or drop it."""
    if ctx.chosen == "nt:cancel":
        return menu.show(ctx, ctx._("Not sent. Nothing was saved."))
    if ctx.chosen == "nt:change:aud":
        return ask_audience(ctx)
    if ctx.chosen == "nt:change:hamlets":
        return await ask_hamlets(ctx)
    if ctx.chosen != "nt:send":
        return reoffer(ctx)
    if not may_send(ctx):
        return menu.show(ctx, ctx._("Only hamlet heads and commune staff can send notices."))
    data = ctx.data
    if (await audience_reach(ctx.session, data["hamlets"], data["audience"])).nobody:
        return await preview(ctx)  # the last group was unlinked meanwhile: warn again
    try:
        item = await broadcasts.create(
            ctx.session, text=data["text"], hamlet_ids=data["hamlets"],
            audience=data["audience"], actor=actor(ctx), now=ctx.now, timezone=ctx.timezone,
            send_at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
            urgent=bool(data.get("urgent")), sender=data["sender"],
            attachments=[Attachment(**f) for f in data["files"]],
            allowed_hamlets=await own_hamlets(ctx))
        item.notify_channel, item.notify_chat = ctx.msg.channel, ctx.msg.user_id
    except broadcasts.BroadcastError:
        return menu.show(ctx, ctx._("This notice could not be sent; please try again."))
    if item.next_run_at and item.next_run_at <= ctx.now:
        await broadcasts.run_due(ctx.session, ctx.now, ctx.timezone)
    recipients = len(await broadcasts.targets(ctx.session, item))
    return menu.show(ctx, ctx.ngettext(
        "Notice {number} is queued for {count} recipient. See its delivery under “Notices "
        "sent”.",
        "Notice {number} is queued for {count} recipients. See its delivery under “Notices "
        "sent”.", recipients).format(number=item.id, count=recipients))


FLOW = Flow.of("notice", content, hamlets_step, audience, when, urgent, confirm,
               notice_history.mine_step)
