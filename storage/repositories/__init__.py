"""One small class per table. Nothing here commits: the caller owns the transaction.

The classes live by domain in core, disclosures and sessions; import them from here.
"""

from storage.repositories.core import (
    Communes,
    Consents,
    Conversations,
    Hamlets,
    InteractionLogs,
    RoleGrants,
    Users,
)
from storage.repositories.disclosures import (
    DisclosureComments,
    Disclosures,
    Subscriptions,
)
from storage.repositories.sessions import (
    DialogueSessions,
    SessionQuestions,
    SessionRegistrations,
    SessionReminders,
)

__all__ = [
    "Communes",
    "Consents",
    "Conversations",
    "DialogueSessions",
    "DisclosureComments",
    "Disclosures",
    "Hamlets",
    "InteractionLogs",
    "RoleGrants",
    "SessionQuestions",
    "SessionRegistrations",
    "SessionReminders",
    "Subscriptions",
    "Users",
]
