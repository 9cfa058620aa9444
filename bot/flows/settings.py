"""Settings: language, hamlet, followed topics, hamlet notices, and the data subject's rights
(bot.flows.data_rights). Without consent only the language and the rights are offered."""

from __future__ import annotations

from bot.flows import data_rights, disclosures, menu, onboarding
from bot.flows.base import Ctx, Flow
from bot.flows.common import LANGUAGE_NAMES, main_menu_button, reoffer
from bot.messages import Button
from bot.services import broadcasts
from storage.repositories import Consents, Hamlets, Subscriptions

NEEDS_CONSENT = frozenset({"settings:hamlet", "settings:subs", "settings:notices",
                           "settings:withdraw"})


async def overview(ctx: Ctx, intro: str = "") -> object:
    """Show the current settings and what can be changed."""
    hamlet = await Hamlets(ctx.session).get(ctx.user.hamlet_id)
    text = ctx._("Your settings:\n• Language: {language}\n• Hamlet: {hamlet}").format(
        language=LANGUAGE_NAMES.get(ctx.user.locale, ctx.user.locale),
        hamlet=hamlet.name if hamlet else ctx._("not chosen"),
    )
    notices_on = await broadcasts.hamlet_notices_on(ctx.session, ctx.user)
    text += "\n" + ctx._("• Hamlet notices in this chat: {state}").format(
        state=ctx._("on") if notices_on else ctx._("off"))
    buttons = [
        Button(ctx._("Language"), "settings:lang"),
        Button(ctx._("Hamlet"), "settings:hamlet"),
        Button(ctx._("Follow topics"), "settings:subs"),
        Button(ctx._("Hamlet notices"), "settings:notices"),
        Button(ctx._("My data"), "settings:mydata"),
        Button(ctx._("Withdraw consent"), "settings:withdraw"),
        Button(ctx._("Delete my data"), "settings:delete"),
        main_menu_button(ctx),
    ]
    if not menu.has_consent(ctx):
        buttons = [b for b in buttons if b.payload not in NEEDS_CONSENT]
    ctx.say(f"{intro}\n\n{text}".strip(), *buttons)
    return setting


async def setting(ctx: Ctx) -> object:
    """The setting the user picked."""
    if ctx.chosen in NEEDS_CONSENT and not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    match ctx.chosen:
        case "settings:lang":
            return ask_language(ctx, back="settings")
        case "settings:hamlet":
            return await onboarding.ask_hamlet(ctx, next_step=hamlet)
        case "settings:subs":
            return await disclosures.show_subscriptions(ctx)
        case "settings:notices":
            return await toggle_hamlet_notices(ctx)
        case "settings:mydata":
            return await data_rights.show(ctx)
        case "settings:withdraw":
            return await data_rights.confirm_withdrawal(ctx)
        case "settings:delete":
            return await data_rights.confirm_deletion(ctx)
    return reoffer(ctx)


async def toggle_hamlet_notices(ctx: Ctx) -> object:
    """Switch the hamlet's notices in private chat on or off (explicit opt-in, recorded)."""
    subscriptions = Subscriptions(ctx.session)
    turning_on = not await broadcasts.hamlet_notices_on(ctx.session, ctx.user)
    if turning_on and ctx.user.hamlet_id is None:
        return await overview(ctx, ctx._("Choose your hamlet first: notices come from it."))
    if turning_on:
        await subscriptions.subscribe(ctx.user.id, broadcasts.HAMLET_NOTICES)
        note = ctx._("You will get your hamlet's notices here (never between 21:00 and 06:30 "
                     "unless urgent). Tap again to stop.")
    else:
        await subscriptions.unsubscribe(ctx.user.id, broadcasts.HAMLET_NOTICES)
        note = ctx._("You will no longer get your hamlet's notices here.")
    await Consents(ctx.session).record(ctx.user, purpose="notifications",
                                       version=broadcasts.HAMLET_NOTICES[:20],
                                       granted=turning_on, at=ctx.now)
    return await overview(ctx, note)


def ask_language(ctx: Ctx, back: str = "menu") -> object:
    """Offer the languages; `back` says where to return afterwards."""
    ctx.data["back"] = back
    ctx.say(ctx._("Choose your language:"), *onboarding.language_buttons())
    return language


async def change_language(ctx: Ctx) -> object:
    """/lang from anywhere."""
    return ask_language(ctx, back="menu" if ctx.user.onboarded_at else "start")


async def language(ctx: Ctx) -> object:
    """Switch every later reply to the chosen language."""
    code = (ctx.chosen or "").removeprefix("lang:")
    if code not in LANGUAGE_NAMES:
        return reoffer(ctx)
    ctx.user.locale = code
    done = ctx._("Done: I will answer in {language}.").format(language=LANGUAGE_NAMES[code])
    match ctx.data.get("back"):
        case "settings":
            return await overview(ctx, done)
        case "start":
            return onboarding.ask_consent(ctx, done)
    return menu.show(ctx, done)


async def hamlet(ctx: Ctx) -> object:
    """Keep the newly chosen hamlet."""
    if (page := onboarding.hamlet_page(ctx.chosen)) is not None:
        return await onboarding.ask_hamlet(ctx, next_step=hamlet, page=page, edit=True)
    chosen = await onboarding.chosen_hamlet(ctx)
    if chosen is False:
        return reoffer(ctx)
    ctx.user.hamlet_id = chosen.id if chosen else None
    return await overview(ctx, ctx._("Saved."))


async def open_settings(ctx: Ctx) -> object:
    """The "Settings" menu entry."""
    return await overview(ctx)


FLOW = Flow.of("settings", setting, language, hamlet)
