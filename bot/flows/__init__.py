"""The flow registry: global commands, menu entries and every flow whose steps can be saved.

A new feature adds its module's FLOW to `FLOWS` and its entry to `ENTRIES`; nothing else
needs to change. Flows import no channel library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from bot.flows import (
    accountability_staff,
    disclosures,
    groups,
    menu,
    onboarding,
    petition_staff,
    petitions,
    publish,
    relays,
    settings,
)
from bot.flows.base import Ctx, Flow, Step

FLOWS: dict[str, Flow] = {
    f.name: f for f in (onboarding.FLOW, menu.FLOW, settings.FLOW, disclosures.FLOW, publish.FLOW,
                        petitions.FLOW)
}

COMMANDS: dict[str, Step] = {
    "start": onboarding.start_over,
    "menu": menu.open_menu,
    "cancel": menu.cancel,
    "help": menu.help_text,
    "lang": settings.change_language,
    "publish": publish.start,
}

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
    "petition": petitions.start,
    "my_petitions": petitions.open_mine,
}

# What staff buttons and commands do in the staff chat (bot.flows.groups checks the role).
groups.STAFF_ACTIONS.update(petition_staff.ACTIONS)
groups.STAFF_COMMANDS.update(petition_staff.COMMANDS)
groups.STAFF_COMMANDS.update(accountability_staff.COMMANDS)

# Links to one record, reached by "go:<name>:<arg>" (buttons in notices, deep links).
LINKS: dict[str, Callable[[Ctx, str], Awaitable[object]]] = {
    "disclosure": disclosures.open_link,
    "petition": petitions.open_link,
    "relay": relays.open_link,
}

_NEEDS_CONSENT = {name for name, _, needs in menu.MENU_ITEMS if needs}
_LABELS = {name: label for name, label, _ in menu.MENU_ITEMS}


def entry_for(payload: str, has_consent: bool) -> Step | None:
    """The action behind a menu payload ("go:settings", "menu:main"), or None."""
    if payload == "menu:main":
        return menu.open_menu
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
