"""The flow registry: global commands, menu entries and every flow whose steps can be saved.

A new feature adds its module's FLOW to `FLOWS` and its entry to `ENTRIES`; nothing else
needs to change. Flows import no channel library.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

from bot.flows import (
    accountability_staff,
    admin_staff,
    data_rights,
    disclosures,
    free_text,
    groups,
    menu,
    my_petitions,
    notices,
    onboarding,
    petition_desk,
    petition_drafts,
    petition_staff,
    petitions,
    publish,
    relays,
    session_desk,
    sessions,
    settings,
    web_sign_in,
)
from bot.flows.base import Ctx, Flow, Step
from bot.flows.common import staff_only
from bot.textfold import fold

FLOWS: dict[str, Flow] = {
    f.name: f for f in (onboarding.FLOW, menu.FLOW, settings.FLOW, disclosures.FLOW, publish.FLOW,
                        petitions.FLOW, my_petitions.FLOW, sessions.FLOW, session_desk.FLOW,
                        notices.FLOW, petition_desk.FLOW, free_text.FLOW, data_rights.FLOW)
}

# Flows whose turns the log keeps with no person reference, hamlet or text. Sending a
# petition and following one's own may concern a denunciation, and nothing may tie a
# denunciation to its sender (Law on Denunciations Art. 9(1)(b)): were only the denunciation's
# turns unreferenced, the person's referenced turns around them, and the type chosen, would
# still tell. The petitions export ties feedback and complaints to their senders.
UNLINKED_FLOWS = frozenset({petitions.FLOW.name, my_petitions.FLOW.name,
                            free_text.FLOW.name})  # text or a file offered as a petition

COMMANDS: dict[str, Step] = {
    "start": onboarding.start_over,
    "menu": menu.open_menu,
    "cancel": menu.cancel,
    "help": menu.help_text,
    "lang": settings.change_language,
    "publish": publish.start,
    "checkin": session_desk.start_checkin,
    "web": web_sign_in.send_link,  # staff only; a link for one person, so never in a group
}
# Staff commands work in a private chat too (staff only), as in the staff group.
STAFF_COMMANDS = {**petition_staff.COMMANDS, **accountability_staff.COMMANDS,
                  **admin_staff.COMMANDS}
COMMANDS |= {name: staff_only(command) for name, command in STAFF_COMMANDS.items()}

# Menu entries, reached by the button payload "go:<name>". Entries listed in the menu but
# missing here answer that the feature is coming (menu.coming_soon).
ENTRIES: dict[str, Step] = {
    "settings": settings.open_settings,
    "help": menu.help_text,
    "privacy": onboarding.review_notice,
    "lang": settings.change_language,
    "menu": menu.open_menu,
    "disclosures": disclosures.open_disclosures,
    "publish": publish.start,
    "notice": notices.start,
    "petition": petitions.start,
    "my_petitions": my_petitions.open_mine,
    "sessions": sessions.open_sessions,
    "session_desk": session_desk.open_desk,
    "desk": petition_desk.open_queue,
    "web": web_sign_in.send_link,
}

# What staff buttons and commands do in the staff chat (bot.flows.groups checks the role).
groups.STAFF_ACTIONS.update(petition_staff.ACTIONS)
groups.STAFF_COMMANDS.update(petition_staff.COMMANDS)
groups.STAFF_COMMANDS.update(accountability_staff.COMMANDS)
groups.STAFF_COMMANDS.update(admin_staff.COMMANDS)
groups.STAFF_INPUTS.append(petition_drafts.group_input)
# Buttons of the petition desk, pressed in a private chat (cards reach staff privately too).
PRIVATE_ACTIONS: dict[str, Step] = petition_staff.ACTIONS

# Links to one record, reached by "go:<name>:<arg>" (buttons in notices, deep links).
LINKS: dict[str, Callable[[Ctx, str], Awaitable[object]]] = {
    "disclosure": disclosures.open_link,
    "petition": my_petitions.open_link,
    "session": sessions.open_link,
    "relay": relays.open_link,
}

# Short codes of links for `/start s_12` (Telegram deep links) and codes typed on other
# channels ("s12", "S-12", "dt12" for "đối thoại", "tt12" for "thông tin", "ct12" for "chuyển
# tiếp"; mid-flow notices say to type "DT12", "TT12", "CT12": bot.services.choices).
SHORT_LINKS: dict[str, str] = {"s": "session", "dt": "session", "d": "disclosure",
                               "tt": "disclosure", "ct": "relay"}
_SHORT = re.compile(r"^([a-z]{1,3})[ _-]?(\d{1,9})$")


def short_link(text: str) -> Step | None:
    """The step a short code stands for ("s_12" opens session 12), or None.

    "pa_PA-2026-000123" (a Telegram deep link) opens that petition for its sender.
    """
    if fold(text.strip()).startswith("pa_"):
        return partial(LINKS["petition"], arg=text.strip()[3:])
    found = _SHORT.match(fold(text.strip()))
    if found is None or found[1] not in SHORT_LINKS:
        return None
    return partial(LINKS[SHORT_LINKS[found[1]]], arg=found[2])

_NEEDS_CONSENT = {name for name, _, needs in menu.MENU_ITEMS if needs}
_LABELS = {name: label for name, label, _ in menu.MENU_ITEMS}


def entry_for(payload: str, has_consent: bool) -> Step | None:
    """The action behind a menu payload ("go:settings", "menu:main"), or None."""
    if payload == "menu:main":
        return menu.open_menu
    if (action := PRIVATE_ACTIONS.get(payload.split(":", 1)[0])) is not None:
        return action
    if not payload.startswith("go:"):
        return None
    name, _, arg = payload.removeprefix("go:").partition(":")
    if arg:
        return partial(LINKS[name], arg=arg) if name in LINKS else None
    if name in _NEEDS_CONSENT and not has_consent:
        return menu.needs_consent
    if name in ENTRIES:
        return ENTRIES[name]
    if name in _LABELS:
        return partial(menu.coming_soon, label=_LABELS[name])
    return None


def locate(step: object) -> tuple[str, str] | None:
    """(flow name, step name) of a step function that may be saved, or None."""
    name = getattr(step, "__name__", None)
    for flow in FLOWS.values():
        if name is not None and flow.steps.get(name) is step:
            return flow.name, name
    return None


def lookup(flow_name: str | None, step_name: str | None) -> Step | None:
    """The step saved as (flow, step), or None when it no longer exists."""
    flow = FLOWS.get(flow_name or "")
    return flow.steps.get(step_name or "") if flow else None
