"""Hamlet heads and staff send a notice from the chat: content, hamlets, audience, time,
preview, then follow its delivery ("Thông báo đã gửi") and cancel one not yet sent.

A hamlet head may pick only the hamlets they are bound to (checked again by the service);
staff may pick any or all. A hamlet head who forwards a message to the bot at the main menu
starts here with it.
"""

from __future__ import annotations

from datetime import datetime

from bot.flows import menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, parse_moment, reoffer
from bot.i18n import N_
from bot.messages import Attachment, Button
from bot.services import broadcasts
from storage.models import Broadcast
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


def _actor(ctx: Ctx) -> str:
    return f"{ctx.msg.channel}:{ctx.msg.user_id}"


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
        return await show_mine(ctx)
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
    if chosen.startswith("nt:h:") and chosen[5:].isdigit():
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
    """Keep the audience, ask when."""
    chosen = (ctx.chosen or "").removeprefix("nt:aud:")
    if chosen not in broadcasts.AUDIENCES:
        return reoffer(ctx)
    ctx.data["audience"] = chosen
    ctx.say(ctx._("Send now, or type a day and time (e.g. 25/12/2026 07:00):"),
            Button(ctx._("Send now"), "nt:now"), main_menu_button(ctx))
    return when


async def when(ctx: Ctx) -> object:
    """Now, or a time in the future; then the preview."""
    if ctx.chosen == "nt:now":
        ctx.data["at"] = None
    elif (moment := parse_moment(ctx.msg.text, ctx.timezone)) and moment > ctx.now:
        ctx.data["at"] = moment.isoformat()
    else:
        return reoffer(ctx, ctx._("Please type a future day and time like 25/12/2026 07:00, "
                                  "or choose:"))
    return await preview(ctx)


async def preview(ctx: Ctx) -> object:
    """What will go out, to whom, when: "Gửi" or "Hủy"."""
    data = ctx.data
    names = [h.name for h in await Hamlets(ctx.session).active() if h.id in data["hamlets"]]
    where = ctx._("all hamlets") if data.get("all") else ", ".join(names)
    moment = (ctx.when(datetime.fromisoformat(data["at"])) if data.get("at")
              else ctx._("now"))
    lines = [ctx._("Please check the notice:"), "", data["text"] or "—"]
    if data["files"]:
        lines.append(ctx._("Files: {count}").format(count=len(data["files"])))
    lines += ["", ctx._("To: {where}").format(where=where),
              ctx._("When: {moment}").format(moment=moment)]
    ctx.say("\n".join(lines), Button(ctx._("Send"), "nt:send"),
            Button(ctx._("Cancel"), "nt:cancel"))
    return confirm


async def confirm(ctx: Ctx) -> object:
    """Queue it (the service checks the hamlets again), or drop it."""
    if ctx.chosen == "nt:cancel":
        return menu.show(ctx, ctx._("Not sent. Nothing was saved."))
    if ctx.chosen != "nt:send":
        return reoffer(ctx)
    if not may_send(ctx):
        return menu.show(ctx, ctx._("Only hamlet heads and commune staff can send notices."))
    data = ctx.data
    try:
        item = await broadcasts.create(
            ctx.session, text=data["text"], hamlet_ids=data["hamlets"],
            audience=data["audience"], actor=_actor(ctx), now=ctx.now, timezone=ctx.timezone,
            send_at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
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


async def show_mine(ctx: Ctx, intro: str = "") -> object:
    """My notices with their delivery progress; a scheduled one can be cancelled."""
    mine = [b for b in await broadcasts.listing(ctx.session, 100)
            if b.created_by == _actor(ctx)][:10]
    if not mine:
        return menu.show(ctx, ctx._("You have not sent any notice yet."))
    lines, buttons = [intro, ctx._("Your notices (newest first):")], []
    for item in mine:
        counts = await broadcasts.progress(ctx.session, item.id)
        total = sum(counts.values())
        lines.append(ctx._("• No. {number}: sent {sent}/{total}, {status} — {text}").format(
            number=item.id, sent=counts.get("sent", 0), total=total,
            status=ctx._(STATUS_WORDS.get(item.status, item.status)), text=item.text[:40]))
        if item.status in (broadcasts.SCHEDULED, broadcasts.PAUSED) or counts.get("pending"):
            buttons.append(Button(ctx._("Cancel no. {number}").format(number=item.id),
                                  f"nt:stop:{item.id}"))
    ctx.say("\n".join(line for line in lines if line), *buttons, main_menu_button(ctx))
    return mine_step


async def mine_step(ctx: Ctx) -> object:
    """Cancel one of my notices."""
    chosen = ctx.chosen or ""
    if chosen.startswith("nt:stop:") and chosen[8:].isdigit():
        item = await ctx.session.get(Broadcast, int(chosen[8:]))
        if item is None or item.created_by != _actor(ctx):
            return reoffer(ctx)
        count = await broadcasts.cancel(ctx.session, item, _actor(ctx))
        return await show_mine(ctx, ctx._("Cancelled; {count} message(s) not sent.").format(
            count=count))
    return reoffer(ctx)


STATUS_WORDS = {
    broadcasts.SCHEDULED: N_("scheduled"),
    broadcasts.PAUSED: N_("paused"),
    broadcasts.DONE: N_("queued"),
    broadcasts.CANCELLED: N_("cancelled"),
}

FLOW = Flow.of("notice", content, hamlets_step, audience, when, confirm, mine_step)
