"""Who acts: the caller as the policy decision point and the audit log know them."""

from __future__ import annotations

from dataclasses import dataclass

from registry.consent.roles import SYSTEM_ADMIN


class Unauthenticated(Exception):
    """No valid credential: missing, unknown, expired or revoked token; wrong password; inactive user."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: what the policy decision point and the audit log need to know about the caller."""

    user_id: str
    role: str
    agency: str
    username: str = ""


# The system administrator at the machine: the command line's commands that act as no particular user.
# Audited under this id with the system_admin role, like every other actor.
SYSTEM = Actor(user_id="system-admin-cli", role=SYSTEM_ADMIN, agency="registry", username="system-admin-cli")
