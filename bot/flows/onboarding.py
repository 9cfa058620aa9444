"""First contact: a short consent message in Vietnamese (the full notice one tap away, English
offered to whoever seems to write it), then the hamlet.

Nothing personal is stored before consent. A new notice version asks again (`renew`).
"""

from __future__ import annotations

from bot.flows import hamlet_choice, menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import LANGUAGE_NAMES, committee_name, office_contact, reoffer, tap
from bot.messages import Button
from bot.textfold import fold
from bot.typed import ascii_int
from storage.models import Hamlet
from storage.repositories import Consents, Hamlets

# Raise the version whenever the notice text changes: everyone is asked again.
PRIVACY_NOTICE_VERSION = "2026-11"
HAMLETS_PER_PAGE = 8  # more hamlets than this are shown page by page


ENGLISH_WORDS = frozenset({
    "hello", "hi", "hey", "good", "morning", "afternoon", "evening", "please", "help",
    "english", "i", "want", "need", "what", "how", "can", "the", "is", "my", "thanks",
})
VIETNAMESE_WORDS = frozenset({"xin", "chao", "toi", "anh", "chi", "em", "ban", "muon", "gui",
                              "cho", "hoi", "oi", "a", "la", "khong", "co"})


def writes_in_english(ctx: Ctx) -> bool:
    """The first words (or the app's language) suggest English: offer it, never impose it."""
    if ctx.msg.language == "en" or ctx.msg.command == "lang":
        return True
    words = set(fold(ctx.msg.text).replace("!", " ").replace("?", " ").split())
    return bool(words & ENGLISH_WORDS) and not words & VIETNAMESE_WORDS


async def greet(ctx: Ctx) -> object:
    """First contact: the short consent message, in Vietnamese unless chosen otherwise."""
    ctx.data["offer_english"] = writes_in_english(ctx)
    return ask_consent(ctx)


def language_buttons() -> list[Button]:
    """One button per supported language, each labelled in its own language."""
    return [Button(name, f"lang:{code}") for code, name in LANGUAGE_NAMES.items()]


def _other_language(ctx: Ctx) -> list[Button]:
    """The way to English for someone who seems to write it (and the way back)."""
    if ctx.user.locale != "vi":
        return [Button(LANGUAGE_NAMES["vi"], "lang:vi")]
    return [Button(LANGUAGE_NAMES["en"], "lang:en")] if ctx.data.get("offer_english") else []


def ask_consent(ctx: Ctx, intro: str | None = None) -> object:
    """The short consent message (who, why, what, rights), the full notice one tap away."""
    text = ctx._(
        "Hello! This is the automated assistant of {committee}: public information, "
        "feedback and petitions, dialogue sessions.\n"
        "To serve you, the commune keeps your account id, language and hamlet; your name "
        "and phone number only when needed, and you are asked first.\n"
        "You can see, correct or delete them, or withdraw your consent, at any time under "
        "“Settings”.\n"
        "Do you agree?"
    ).format(committee=committee_name(ctx))
    if intro:
        text = f"{intro}\n\n{text}"
    ctx.say(text, Button(ctx._("I agree"), "consent:yes"),
            Button(ctx._("Show details"), "consent:details"),
            Button(ctx._("I do not agree"), "consent:no"), *_other_language(ctx))
    return consent


def show_notice(ctx: Ctx, intro: str | None = None) -> object:
    """The full privacy notice, in plain words, with "agree" / "do not agree"."""
    notice = ctx._(
        "How your personal data is handled (notice {version}):\n\n"
        "• Who: {committee} is responsible for it.\n"
        "• Why: to receive and answer your feedback and petitions, to register you for "
        "dialogue sessions, and to send you the notices you choose.\n"
        "• What: your account id in this app, your language and your hamlet. Your name, "
        "phone number or address only when a service needs them, and you are asked each "
        "time.\n"
        "• How long: until you ask for it to be deleted; petitions you send are kept as the "
        "archive rules require.\n"
        "• Your rights: see, correct or delete your data and withdraw your consent at any "
        "time under “Settings”.\n"
        "• Contact: {office}.\n\n"
        "Do you agree?"
    ).format(version=PRIVACY_NOTICE_VERSION, committee=committee_name(ctx),
             office=office_contact(ctx))
    if intro:
        notice = f"{intro}\n\n{notice}"
    ctx.say(notice, Button(ctx._("I agree"), "consent:yes"),
            Button(ctx._("I do not agree"), "consent:no"), *_other_language(ctx))
    return consent


def choose_language(ctx: Ctx) -> object:
    """/lang before consent: the languages, then the consent message in the chosen one."""
    ctx.say(ctx._("Choose your language:"), *language_buttons())
    return language


async def language(ctx: Ctx) -> object:
    """A language chosen on the first screen: the same message again in it."""
    code = (ctx.chosen or "").removeprefix("lang:")
    if code not in LANGUAGE_NAMES:
        return reoffer(ctx)
    ctx.user.locale = code
    return ask_consent(ctx)


async def consent(ctx: Ctx) -> object:
    """Record the decision; on agreement ask for the hamlet (unless we already know it)."""
    if ctx.chosen == "consent:details":
        return show_notice(ctx)
    if (ctx.chosen or "").startswith("lang:"):
        return await language(ctx)
    if ctx.chosen not in ("consent:yes", "consent:no"):
        shown = {b.payload: b.label for b in ctx.offered}
        agree = shown.get("consent:yes", ctx._("I agree"))
        disagree = shown.get("consent:no", ctx._("I do not agree"))
        return reoffer(ctx, ctx._("Please {agree} or {disagree}.").format(
            agree=tap(ctx, agree, ctx.offered), disagree=tap(ctx, disagree, ctx.offered)))
    granted = ctx.chosen == "consent:yes"
    await Consents(ctx.session).record(
        ctx.user, purpose="privacy_notice", version=PRIVACY_NOTICE_VERSION, granted=granted,
        at=ctx.now,
    )
    if not granted:
        return declined(ctx)
    ctx.user.consent_version = PRIVACY_NOTICE_VERSION
    ctx.user.consent_at = ctx.now
    ctx.user.consent_declined_at = None
    if ctx.user.hamlet_id is not None:
        ctx.user.onboarded_at = ctx.user.onboarded_at or ctx.now
        return menu.show(ctx, ctx._("Thank you. What would you like to do?"))
    return await ask_hamlet(ctx, ctx._("Thank you."))


def declined(ctx: Ctx) -> object:
    """No consent: keep nothing personal, leave public information open."""
    user = ctx.user
    user.consent_version = user.consent_at = None
    user.hamlet_id = user.display_name = user.phone = None
    user.consent_declined_at = ctx.now
    user.onboarded_at = user.onboarded_at or ctx.now
    text = ctx._(
        "Understood: we keep no personal data about you. You can still read the commune's "
        "public information here. To send feedback or a petition, or to register for a "
        "dialogue session, please contact {office}. If you change your mind, choose "
        "“Review the privacy notice”."
    ).format(office=office_contact(ctx))
    return menu.show(ctx, text)


async def ask_hamlet(
    ctx: Ctx, intro: str = "", next_step: object = None, page: int = 0, edit: bool = False,
) -> object:
    """Ask which hamlet the person lives in (buttons from the commune file, plus "Skip").

    Long lists are paged; turning a page replaces the message where the channel can edit.
    """
    hamlets = list(await Hamlets(ctx.session).active())
    last_page = max(0, (len(hamlets) - 1) // HAMLETS_PER_PAGE)
    page = min(max(page, 0), last_page)
    shown = hamlets[page * HAMLETS_PER_PAGE:(page + 1) * HAMLETS_PER_PAGE]
    turns = []
    if page > 0:
        turns.append(Button(ctx._("Previous page"), f"hamlet:page:{page - 1}"))
    if page < last_page:
        turns.append(Button(ctx._("Next page"), f"hamlet:page:{page + 1}"))
    question = ctx._(
        "Which hamlet (thôn, tổ dân phố) do you live in? It lets us send you the notices of "
        "your own hamlet. You can change it later under “Settings”."
    )
    ctx.say(
        f"{intro}\n\n{question}".strip(),
        *(Button(h.name, f"hamlet:{h.code}") for h in shown),
        *turns,
        Button(ctx._("Skip"), "hamlet:skip"),
        edit=edit,
    )
    return next_step or hamlet


def hamlet_page(payload: str | None) -> int | None:
    """The page asked for by a "Next page"/"Previous page" button, else None."""
    number = (payload or "").removeprefix("hamlet:page:")
    return ascii_int(number) if number != payload else None


async def hamlet(ctx: Ctx) -> object:
    """Keep the chosen hamlet (or none) and open the main menu."""
    if (page := hamlet_page(ctx.chosen)) is not None:
        return await ask_hamlet(ctx, page=page, edit=True)
    chosen = await chosen_hamlet(ctx)
    if chosen is STAY:
        return STAY
    if chosen is False:
        return reoffer(ctx)
    ctx.user.hamlet_id = chosen.id if chosen else None
    ctx.user.onboarded_at = ctx.user.onboarded_at or ctx.now
    if chosen:
        text = ctx._("Saved: you live in {hamlet}. What would you like to do?")
        tip = ctx._("Tip: to get the notices of {hamlet} in this chat, turn on “Hamlet notices” "
                    "in Settings.")  # the one-time offer; nothing is sent without it
        return menu.show(ctx, text.format(hamlet=chosen.name) + "\n\n" +
                         tip.format(hamlet=chosen.name))
    return menu.show(ctx, ctx._("All set. What would you like to do?"))


async def chosen_hamlet(ctx: Ctx) -> Hamlet | None | bool | object:
    """The hamlet picked by the button or typed, None for "skip", False when nothing valid
    was picked, STAY after asking to confirm a hamlet typed in part."""
    payload = ctx.chosen or ""
    if payload == "hamlet:skip":
        return None
    if not payload.startswith("hamlet:"):
        typed = await hamlet_choice.typed_hamlet(
            ctx, list(await Hamlets(ctx.session).active()), lambda h: f"hamlet:{h.code}")
        return False if typed is None else typed
    found = await Hamlets(ctx.session).by_code(payload.removeprefix("hamlet:"))
    return found if found and found.active else False


async def renew(ctx: Ctx) -> object:
    """The notice changed since the person agreed: ask again before anything else."""
    intro = ctx._("Our privacy notice has changed. Please read it again.")
    return show_notice(ctx, intro)


async def start_over(ctx: Ctx) -> object:
    """/start: onboarding for newcomers, the menu (or a deep link) for everyone else."""
    if ctx.user.onboarded_at is None:
        return await greet(ctx)
    if ctx.msg.start_parameter:
        from bot.flows import short_link  # the registry imports this module

        if (link := short_link(ctx.msg.start_parameter)) is not None:
            return await link(ctx)
    return menu.show(ctx, ctx._("Welcome back! What would you like to do?"))


async def review_notice(ctx: Ctx) -> object:
    """"Review the privacy notice" from the reduced menu: the full notice."""
    return show_notice(ctx)


FLOW = Flow.of("onboarding", greet, language, consent, hamlet)
