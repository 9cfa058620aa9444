"""SQLModel tables, one module per area. Times are stored as UTC and read back
timezone-aware (columns.UTCDateTime). Import tables from here:
`from storage.models import User`."""

from storage.models.columns import UTCDateTime
from storage.models.disclosures import (
    Disclosure,
    DisclosureComment,
    DisclosureRevision,
    Subscription,
)
from storage.models.operations import (
    ApiKey,
    DeploymentFact,
    DeskJob,
    WebSession,
    WebSignIn,
    ZaloOAFollower,
    ZaloOAToken,
)
from storage.models.people import Commune, Consent, Conversation, Hamlet, RoleGrant, User
from storage.models.petitions import DeskDraft, Petition, PetitionEvent, PetitionIdentity
from storage.models.sessions import (
    DialogueSession,
    SessionQuestion,
    SessionRegistration,
    SessionReminder,
)
from storage.models.traffic import (
    Broadcast,
    GroupLink,
    InboundEvent,
    InteractionLog,
    OutboxMessage,
    SendSlot,
)

__all__ = [
    "UTCDateTime",
    "UTCDateTime",
    "Commune",
    "Hamlet",
    "User",
    "Consent",
    "Conversation",
    "RoleGrant",
    "InteractionLog",
    "InboundEvent",
    "OutboxMessage",
    "Broadcast",
    "GroupLink",
    "SendSlot",
    "Disclosure",
    "DisclosureRevision",
    "Subscription",
    "DisclosureComment",
    "Petition",
    "DeskDraft",
    "PetitionIdentity",
    "PetitionEvent",
    "DialogueSession",
    "SessionRegistration",
    "SessionQuestion",
    "SessionReminder",
    "ZaloOAToken",
    "ZaloOAFollower",
    "ApiKey",
    "WebSignIn",
    "WebSession",
    "DeskJob",
    "DeploymentFact",
]
