"""Text and files sent at the menu mean something: a greeting is greeted, a few words become
a petition or a search (the likelier first), a photo or voice message a petition's evidence.

Flows import no channel library.
"""

from __future__ import annotations

from bot.flows import menu, words
from bot.flows.base import Ctx, Flow
from bot.flows.common import committee_name, main_menu_button, reoffer
from bot.messages import Button
from bot.services import petition_intake
from storage.repositories import Disclosures
from storage.search import terms

GREETINGS = frozenset({"alo", "a lo", "xin chao", "chao", "chao ban", "chao em", "chao anh",
                       "chao chi", "hello", "hi", "hey", "ad oi", "admin oi", "co ai khong"})
THANKS = frozenset({"cam on", "cam on ban", "cam on nhieu", "thank you", "thanks", "tks", "ok",
                    "oke", "okay", "vang", "da", "uh", "u"})
# Words of someone looking for information rather than reporting a problem.
ASKING = frozenset({"khi nao", "bao gio", "o dau", "the nao", "lam sao", "bao nhieu", "lich",
                    "ke hoach", "thong bao", "quyet dinh", "ngan sach", "quy hoach",
                    "danh sach", "du an", "thu tuc", "ho so", "du toan", "ket qua"})
MAX_SEARCH = 50
QUOTED = 120  # characters of the typed text repeated in the question


async def understand(ctx: Ctx) -> object:
    """Text or files at the menu that are not one of its entries or a code."""
    if ctx.msg.attachments:
        return files(ctx)
    if ctx.msg.location or ctx.msg.contact:
        what = ctx._("location") if ctx.msg.location else ctx._("phone number")
        return menu.show(ctx, ctx._("I received your {what}, but it is not used here, so it "
                                    "was not kept. What would you like to do?").format(what=what))
    text = " ".join(ctx.msg.text.split())
    word = words.key(text)
    if words.emoji_only(text) or word in THANKS:
        return menu.show(ctx, ctx._("Thank you! 😊 What would you like to do?"))
    if (text.isdigit() or not any(c.isalnum() for c in text)
            or len(text) > petition_intake.MAX_DESCRIPTION):
        return reoffer(ctx)  # a wrong number, stray signs, or far too long to be a petition
    if word in GREETINGS:
        return menu.show(ctx, ctx._("Hello! I am the assistant of {committee}. Choose below, "
                                    "or type a few words about what you need (for example: "
                                    "“đèn đường hỏng”).").format(
                                        committee=committee_name(ctx)))
    return await suggest(ctx, text)


async def suggest(ctx: Ctx, text: str) -> object:
    """Offer to send the text as a petition and to search public information for it."""
    ctx.data = {"text": text}
    hits = 0
    if terms(text):
        hits = len(await Disclosures(ctx.session).search(text, ctx.now, limit=MAX_SEARCH))
    search = Button(ctx._("Search public information"), "ft:search")
    buttons = [search]
    if menu.has_consent(ctx):
        petition = Button(ctx._("Send it as a petition"), "ft:petition")
        asking = "?" in text or any(w in words.key(text) for w in ASKING)
        buttons = [search, petition] if hits and asking else [petition, search]
    quoted = text if len(text) <= QUOTED else text[:QUOTED - 1].rstrip() + "…"
    lines = [ctx._("What would you like to do with “{text}”?").format(text=quoted)]
    if hits:
        lines.append(ctx.ngettext("{count} piece of public information matches it.",
                                  "{count} pieces of public information match it.",
                                  hits).format(count=hits))
    ctx.say("\n".join(lines), *buttons, main_menu_button(ctx))
    return suggestion


def files(ctx: Ctx) -> object:
    """A photo or voice message at the menu: offered as the evidence of a petition."""
    from bot.flows import petitions  # petitions imports the menu

    what = words.file_word(ctx, ctx.msg.attachments[0].kind)
    if not menu.has_consent(ctx):
        return menu.show(ctx, ctx._("I received your {what}, but it was not kept: keeping "
                                    "files needs your consent to the privacy notice.")
                         .format(what=what))
    ctx.data = {"text": ctx.msg.text.strip()}
    if (problem := petitions.keep_files(ctx)) is not None:
        return menu.show(ctx, problem)
    ctx.say(ctx._("I received your {what}. Would you like to send it to {committee} as a "
                  "petition? It will be attached as evidence; nothing is sent until you "
                  "confirm.").format(what=what, committee=committee_name(ctx)),
            Button(ctx._("Send it as a petition"), "ft:petition"), main_menu_button(ctx))
    return suggestion


async def suggestion(ctx: Ctx) -> object:
    """The petition or the search offered for what was typed or sent; else understood anew."""
    from bot.flows import disclosures, petitions  # both import the menu

    if ctx.chosen == "ft:petition" and menu.has_consent(ctx):
        return await petitions.start_with(ctx, ctx.data.get("text") or None,
                                          ctx.data.get("attachments") or [])
    if ctx.chosen == "ft:search" and ctx.data.get("text"):
        ctx.data = {"mode": "search", "q": ctx.data["text"][:disclosures.MAX_QUERY],
                    "page": 0}
        return await disclosures.show_page(ctx)
    return await menu.choice(ctx)


FLOW = Flow.of("free_text", suggestion)
