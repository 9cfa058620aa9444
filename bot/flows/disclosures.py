"""Public information ("Dân biết"): browse by category, search, read, follow, comment.

Lists show 5 disclosures per page, newest first; "Trang sau"/"Trang trước" edit the same
message where the channel can. Search ignores diacritics and case ("duong" finds "Đường").
"""

from __future__ import annotations

from bot.flows import disclosure_comments as comments
from bot.flows import menu
from bot.flows.base import Ctx, Flow
from bot.flows.common import main_menu_button, reoffer, shorten
from bot.messages import Attachment, Button
from bot.services import consultation
from bot.services import disclosures as service
from bot.typed import ascii_int
from storage.models import Disclosure
from storage.repositories import Consents, Disclosures, Subscriptions
from storage.search import terms

PAGE = 5
MAX_RESULTS = 50
MAX_QUERY = 200


def _short(title: str) -> str:
    return shorten(title)


def number(payload: str, prefix: str) -> int | None:
    """The number after `prefix` in a payload ("dc:open:12" -> 12), or None."""
    if not payload.startswith(prefix):
        return None
    rest = payload.removeprefix(prefix)
    return ascii_int(rest)


def _label(ctx: Ctx, category: int) -> str:
    return service.category_label(category, ctx.user.locale)


# --- categories -------------------------------------------------------------------------


async def open_disclosures(ctx: Ctx, intro: str = "") -> object:
    """The "Công khai thông tin" entry: categories that have something on the board."""
    counts = await Disclosures(ctx.session).counts_by_category(ctx.now)
    buttons = [Button(_label(ctx, c), f"dc:cat:{c}") for c in service.CATEGORIES if counts.get(c)]
    text = ctx._("Public information of the commune. Choose a topic, or search by keyword:")
    if not buttons:
        text = ctx._("Nothing is posted at the moment. You can still search older information:")
    ctx.say(
        f"{intro}\n\n{text}".strip(), *buttons,
        Button(ctx._("Search"), "dc:search"),
        Button(ctx._("Follow topics"), "dc:subs"),
        main_menu_button(ctx),
    )
    return categories


async def categories(ctx: Ctx) -> object:
    """A topic, search or the follow screen."""
    chosen = ctx.chosen or ""
    if (category := number(chosen, "dc:cat:")) in service.CATEGORIES:
        ctx.data.update(mode="cat", cat=category, page=0)
        return await show_page(ctx)
    if chosen == "dc:search":
        return ask_query(ctx)
    if chosen == "dc:subs":
        return await show_subscriptions(ctx)
    if not ctx.chosen and ctx.msg.text.strip():
        return await run_search(ctx)  # typed words at the topic list: search them
    return reoffer(ctx)


# --- lists (a category's board, or search results) -----------------------------------------


async def _page_items(ctx: Ctx) -> tuple[list[Disclosure], bool]:
    """The disclosures of the current page and whether a next page exists."""
    page = ctx.data.get("page", 0)
    repo = Disclosures(ctx.session)
    if ctx.data.get("mode") == "search":
        wanted = min((page + 1) * PAGE + 1, MAX_RESULTS)
        found = await repo.search(ctx.data["q"], ctx.now, limit=wanted)
        return found[page * PAGE : (page + 1) * PAGE], len(found) > (page + 1) * PAGE
    rows = list(await repo.on_board(ctx.data["cat"], ctx.now, offset=page * PAGE,
                                    limit=PAGE + 1))
    return rows[:PAGE], len(rows) > PAGE


def _archived(ctx: Ctx, item: Disclosure) -> bool:
    return item.posted_until is not None and item.posted_until < ctx.now


async def show_page(ctx: Ctx, edit: bool = False) -> object:
    """One page of the list, with next/previous where there is more."""
    items, has_next = await _page_items(ctx)
    page = ctx.data.get("page", 0)
    if ctx.data.get("mode") == "search":
        if not items:
            ctx.say(ctx._("Nothing found for “{query}”. Try other words, or fewer of them:")
                    .format(query=ctx.data["q"]), main_menu_button(ctx))
            return query
        header = ctx._("Results for “{query}” (page {page}):").format(
            query=ctx.data["q"], page=page + 1)
    else:
        header = ctx._("{topic} (page {page}), newest first:").format(
            topic=_label(ctx, ctx.data["cat"]), page=page + 1)
    lines = [header]
    for item in items:
        mark = " " + ctx._("(archived)") if _archived(ctx, item) else ""
        lines.append(f"• {item.title} — {ctx.day(item.posted_from)}{mark}")
    buttons = [Button(_short(item.title), f"dc:open:{item.id}") for item in items]
    if page > 0:
        buttons.append(Button(ctx._("Previous page"), "dc:prev"))
    if has_next:
        buttons.append(Button(ctx._("Next page"), "dc:next"))
    if ctx.data.get("mode") == "cat":
        buttons.append(await _follow_button(ctx, ctx.data["cat"]))
    buttons += [Button(ctx._("Back"), "dc:back"), main_menu_button(ctx)]
    ctx.say("\n".join(lines), *buttons, edit=edit)
    return listing


async def listing(ctx: Ctx) -> object:
    """A disclosure opened, a page turned, a topic followed, or back to the topics."""
    chosen = ctx.chosen or ""
    if (item_id := number(chosen, "dc:open:")) is not None:
        return await show_detail(ctx, item_id)
    if chosen in ("dc:next", "dc:prev"):
        ctx.data["page"] = max(0, ctx.data.get("page", 0) + (1 if chosen == "dc:next" else -1))
        return await show_page(ctx, edit=True)
    if (category := number(chosen, "dc:follow:")) is not None:
        return await toggle_follow(ctx, category, show_page)
    if chosen == "dc:back":
        return await open_disclosures(ctx)
    if not ctx.chosen and ctx.msg.text.strip():
        return await run_search(ctx)
    return reoffer(ctx)


# --- search ---------------------------------------------------------------------------------


def ask_query(ctx: Ctx) -> object:
    """Ask for the words to look for."""
    ctx.say(ctx._("Type the words to look for, with or without accents "
                  "(for example: duong giao thong):"), main_menu_button(ctx))
    return query


async def query(ctx: Ctx) -> object:
    """The words typed to search."""
    return await run_search(ctx)


async def run_search(ctx: Ctx) -> object:
    """Search the typed text and show the first page of results."""
    text = " ".join(ctx.msg.text.split())
    if not text:
        return ask_query(ctx)
    if len(text) > MAX_QUERY:
        text = text[:MAX_QUERY]
    if not terms(text):
        ctx.say(ctx._("Please type words with letters or numbers to search for."),
                main_menu_button(ctx))
        return query
    ctx.data.update(mode="search", q=text, page=0)
    return await show_page(ctx)


# --- one disclosure -------------------------------------------------------------------------


async def show_detail(ctx: Ctx, disclosure_id: int) -> object:
    """Everything about one disclosure, with its file and the actions that apply."""
    item = await Disclosures(ctx.session).get(disclosure_id)
    if item is None or item.posted_from > ctx.now:
        return await open_disclosures(ctx, ctx._("This information is no longer available."))
    ctx.data["id"] = item.id
    lines = [item.title, "", "📁 " + _label(ctx, item.category)]
    if item.decided_on:
        lines.append(ctx._("Decision date: {day}").format(day=ctx.day(item.decided_on)))
    if item.posted_until is None:
        lines.append(ctx._("Posted from {start}, permanently").format(
            start=ctx.day(item.posted_from)))
    else:
        lines.append(ctx._("Posted from {start} to {end}").format(
            start=ctx.day(item.posted_from), end=ctx.day(item.posted_until)))
    if _archived(ctx, item):
        lines.append(ctx._("The posting period is over; this is kept as an archive."))
    if item.version > 1:
        lines.append(ctx._("Updated on {day}").format(day=ctx.day(item.updated_at)))
    lines += ["", item.body]
    lines += _consultation_lines(ctx, item) + await comments.detail_lines(ctx, item)
    buttons = await comments.detail_buttons(ctx, item)
    buttons.append(await _follow_button(ctx, item.category))
    if ctx.data.get("mode"):
        buttons.append(Button(ctx._("Back"), "dc:list"))
    buttons += [Button(ctx._("Public information"), "dc:back"), main_menu_button(ctx)]
    attachments = (_attachment(item.attachment),) if item.attachment else ()
    ctx.say("\n".join(lines).strip(), *buttons, attachments=attachments)
    return detail


def _attachment(stored: dict) -> Attachment:
    """The stored reference as a neutral attachment (extra keys, like its channel, dropped)."""
    return Attachment(**{key: stored.get(key) for key in ("kind", "ref", "name", "mime_type",
                                                          "size")})


def _consultation_lines(ctx: Ctx, item: Disclosure) -> list[str]:
    if item.consult_until is None:
        return []
    if consultation.consultation_open(item, ctx.now):
        return ["", ctx._("💬 Open for comments until the end of {day}. Choose “Comment” to "
                          "send yours.").format(day=ctx.day(item.consult_until))]
    closed = ctx._("The consultation closed on {day}.").format(day=ctx.day(item.consult_until))
    lines = ["", closed]
    if item.response:
        lines += [ctx._("Response of the People's Committee:"), item.response]
    else:
        lines.append(ctx._("The People's Committee is reviewing the comments and will publish "
                           "its response here."))
    return lines


async def detail(ctx: Ctx) -> object:
    """Comment, follow, back to the list or to the topics."""
    chosen = ctx.chosen or ""
    if chosen == "dc:comment":
        return await comments.ask_comment(ctx)
    if chosen == "dc:mine":
        return await comments.show_mine(ctx)
    if (category := number(chosen, "dc:follow:")) is not None:
        return await toggle_follow(ctx, category, redetail)
    if chosen == "dc:list" and ctx.data.get("mode"):
        return await show_page(ctx)
    if chosen == "dc:back":
        return await open_disclosures(ctx)
    return reoffer(ctx)


async def redetail(ctx: Ctx, intro: str = "") -> object:
    """The disclosure again, after a note."""
    if intro:
        ctx.say(intro)
    return await show_detail(ctx, ctx.data["id"])


async def open_link(ctx: Ctx, arg: str) -> object:
    """"go:disclosure:12" (from a notice or a deep link): open that disclosure."""
    if (ident := ascii_int(arg)) is None:
        return await open_disclosures(ctx)
    ctx.data.pop("mode", None)
    return await show_detail(ctx, ident)


# --- following topics -----------------------------------------------------------------------


async def _follow_button(ctx: Ctx, category: int) -> Button:
    followed = service.topic(category) in await Subscriptions(ctx.session).topics_of(ctx.user.id)
    label = ctx._("Unfollow") if followed else ctx._("Follow")
    return Button(label, f"dc:follow:{category}")


async def toggle_follow(ctx: Ctx, category: int, then: object) -> object:
    """Follow or unfollow a topic (explicit opt-in, recorded as a consent decision)."""
    if not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    if category not in service.CATEGORIES:
        return reoffer(ctx)
    subscriptions = Subscriptions(ctx.session)
    name = service.topic(category)
    following = name not in await subscriptions.topics_of(ctx.user.id)
    if following:
        await subscriptions.subscribe(ctx.user.id, name)
        note = ctx._("You will be told when new information on “{topic}” is posted.")
    else:
        await subscriptions.unsubscribe(ctx.user.id, name)
        note = ctx._("You will no longer be told about “{topic}”.")
    await Consents(ctx.session).record(ctx.user, purpose="notifications", version=name[:20],
                                       granted=following, at=ctx.now)
    note = note.format(topic=_label(ctx, category))
    if then is show_page:
        ctx.say(note)
        return await show_page(ctx)
    if then is show_subscriptions:
        return await show_subscriptions(ctx, note, edit=True)
    return await redetail(ctx, note)


async def show_subscriptions(ctx: Ctx, intro: str = "", edit: bool = False) -> object:
    """Every topic with a mark on those followed; tapping one switches it."""
    if not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    followed = await Subscriptions(ctx.session).topics_of(ctx.user.id)
    buttons = [
        Button(("✓ " if service.topic(c) in followed else "") + _label(ctx, c), f"dc:follow:{c}")
        for c in service.CATEGORIES
    ]
    text = ctx._("Choose the topics you want to hear about when something new is posted "
                 "(✓ = followed). Tap again to stop.")
    ctx.say(f"{intro}\n\n{text}".strip(), *buttons, Button(ctx._("Back"), "dc:back"),
            main_menu_button(ctx), edit=edit)
    return subscriptions


async def subscriptions(ctx: Ctx) -> object:
    """A topic switched, or back."""
    chosen = ctx.chosen or ""
    if (category := number(chosen, "dc:follow:")) is not None:
        return await toggle_follow(ctx, category, show_subscriptions)
    if chosen == "dc:back":
        return await open_disclosures(ctx)
    return reoffer(ctx)


FLOW = Flow.of("disclosures", categories, listing, query, detail, comments.comment_text,
               comments.comment_preview, comments.my_comments, subscriptions)
