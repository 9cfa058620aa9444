"""PTB's rate limiter slot, filled by the installation's shared send budget.

Every Bot API call that sends into a chat waits for a slot of the bot's budget (and of the
group's, for a group chat) in bot.services.send_budget, which every process shares through
PostgreSQL. Flood control (429) is waited out by the caller (telegram.with_retries).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.services.send_budget import TELEGRAM_GROUP, Rate, SendBudget
from storage.db import Database

# Calls that put something in a chat (or change it): the ones Telegram's limits count.
SENDING = frozenset({
    "sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "sendLocation",
    "sendVoice", "sendVideo", "sendAudio", "sendSticker", "editMessageText",
    "editMessageReplyMarkup", "copyMessage", "forwardMessage",
})


def telegram_budget(db: Database | None, token: str, per_second: float = 30) -> SendBudget:
    """The budget of the bot with `token` (named by its numeric id, never the secret)."""
    return SendBudget(db, f"telegram:{token.split(':', 1)[0]}", Rate(1 / per_second),
                      TELEGRAM_GROUP)


def is_group(chat_id: object) -> bool:
    """Group and channel ids are negative numbers (or @usernames of channels)."""
    text = str(chat_id)
    return text.startswith(("-", "@"))


class BudgetRateLimiter(BaseRateLimiter[None]):
    """Waits for the shared budget before each sending call."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
        kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        """Take a slot for a sending call, then make it."""
        chat_id = data.get("chat_id")
        if endpoint in SENDING and chat_id is not None:
            await self.budget.take(str(chat_id), group=is_group(chat_id))
        return await callback(*args, **kwargs)
