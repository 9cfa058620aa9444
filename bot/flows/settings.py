"""Settings: language, hamlet, see my data, delete my data (the data subject's rights)."""

from __future__ import annotations

from bot.flows import disclosures, menu, onboarding
from bot.flows.base import END, STAY, Ctx, Flow
from bot.flows.common import (
    CHANNEL_NAMES,
    LANGUAGE_NAMES,
    committee_name,
    main_menu_button,
    reoffer,
)
from bot.messages import Button
from bot.services import broadcasts
from bot.services import sessions as session_service
from storage.repositories import Consents, DisclosureComments, Hamlets, Subscriptions


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
    ctx.say(
        f"{intro}\n\n{text}".strip(),
        Button(ctx._("Language"), "settings:lang"),
        Button(ctx._("Hamlet"), "settings:hamlet"),
        Button(ctx._("Follow topics"), "settings:subs"),
        Button(ctx._("Hamlet notices"), "settings:notices"),
        Button(ctx._("My data"), "settings:mydata"),
        Button(ctx._("Delete my data"), "settings:delete"),
        main_menu_button(ctx),
    )
    return setting


async def setting(ctx: Ctx) -> object:
    """The setting the user picked."""
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
            return await my_data(ctx)
        case "settings:delete":
            return confirm_deletion(ctx)
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
    """/lang from anywhere (during first contact, within it)."""
    if ctx.user.onboarded_at is None:
        return onboarding.choose_language(ctx)
    return ask_language(ctx)


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
    return menu.show(ctx, done)


async def hamlet(ctx: Ctx) -> object:
    """Keep the newly chosen hamlet."""
    if (page := onboarding.hamlet_page(ctx.chosen)) is not None:
        return await onboarding.ask_hamlet(ctx, next_step=hamlet, page=page, edit=True)
    chosen = await onboarding.chosen_hamlet(ctx)
    if chosen is STAY:  # a hamlet typed in part: asked to confirm
        return STAY
    if chosen is False:
        return reoffer(ctx)
    ctx.user.hamlet_id = chosen.id if chosen else None
    return await overview(ctx, ctx._("Saved."))


async def my_data(ctx: Ctx) -> object:
    """Everything we keep about this person, in plain words."""
    user = ctx.user
    hamlet_row = await Hamlets(ctx.session).get(user.hamlet_id)
    lines = [
        ctx._("This is what {committee} keeps about you:").format(
            committee=committee_name(ctx)
        ),
        ctx._("• Channel: {channel}, account id {id}").format(
            channel=CHANNEL_NAMES.get(user.channel, user.channel), id=user.external_id
        ),
        ctx._("• Language: {language}").format(language=LANGUAGE_NAMES.get(user.locale)),
        ctx._("• Hamlet: {hamlet}").format(
            hamlet=hamlet_row.name if hamlet_row else ctx._("not chosen")
        ),
        ctx._("• Name: {name}").format(name=user.display_name or ctx._("not kept")),
        ctx._("• Phone: {phone}").format(phone=user.phone or ctx._("not kept")),
        ctx._("• First contact: {when}").format(when=ctx.when(user.created_at)),
    ]
    if user.consent_version and user.consent_at:
        lines.append(
            ctx._("• Consent to the privacy notice: version {version}, given {when}").format(
                version=user.consent_version, when=ctx.when(user.consent_at)
            )
        )
    lines.append(
        ctx._("The interaction log keeps only an anonymous code for you, never what you type.")
    )
    return await overview(ctx, "\n".join(lines))


def confirm_deletion(ctx: Ctx) -> object:
    """Ask before deleting: it cannot be undone."""
    ctx.say(
        ctx._(
            "Delete your data? Your hamlet, name, phone number, consent and followed topics "
            "will be removed "
            "and you will be asked again next time. Petitions you already sent stay with the "
            "commune as the law requires. This cannot be undone."
        ),
        Button(ctx._("Yes, delete"), "delete:yes"),
        Button(ctx._("No, keep it"), "delete:no"),
    )
    return deletion


async def deletion(ctx: Ctx) -> object:
    """Delete the personal fields and consent records, or go back."""
    if ctx.chosen == "delete:no":
        return await overview(ctx, ctx._("Nothing was deleted."))
    if ctx.chosen != "delete:yes":
        return reoffer(ctx)
    user = ctx.user
    user.hamlet_id = user.display_name = user.phone = None
    user.consent_version = user.consent_at = user.consent_declined_at = None
    user.onboarded_at = None
    await Consents(ctx.session).delete_for(user.id)
    await Subscriptions(ctx.session).unsubscribe(user.id)
    await DisclosureComments(ctx.session).forget_user(user.id)
    await session_service.forget_user(ctx.session, user, now=ctx.now, timezone=ctx.timezone)
    ctx.say(
        ctx._(
            "Your data has been deleted. The interaction log keeps only an anonymous code "
            "that cannot identify you. Type /start whenever you want to use the assistant again."
        )
    )
    return END


async def open_settings(ctx: Ctx) -> object:
    """The "Settings" menu entry."""
    return await overview(ctx)


FLOW = Flow.of("settings", setting, language, hamlet, deletion)
