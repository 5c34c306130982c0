"""Permission decisions as one pure function, usable from HTTP, workers, exports and rules.

`decide(actor, action, resource)` sees plain snapshots only, never a database session,
so the same answer holds wherever the question is asked.
"""

from flowdesk.engines.access.decide import (
    MESSAGE_SENDER_ROLE,
    ORG_ADMIN_ROLE,
    PROCESS_ADMIN_ROLE,
    Action,
    Actor,
    Decision,
    ResourceFacts,
    decide,
)

__all__ = [
    "MESSAGE_SENDER_ROLE",
    "ORG_ADMIN_ROLE",
    "PROCESS_ADMIN_ROLE",
    "Action",
    "Actor",
    "Decision",
    "ResourceFacts",
    "decide",
]
