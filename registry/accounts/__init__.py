"""Accounts (issue 5): agencies, users with roles, Argon2id passwords and API tokens.

Public face: `Actor` (who is asking), `actor_for_token` (bearer token -> Actor), `login`, and the admin
functions used by the CLI. Tables in `tables`, hashing in `secrets_`, roles in `roles`.
"""

from registry.accounts.roles import AGENCY_ADMIN, CASEWORKER, DPO, NATIONAL_REVIEWER, ROLES, SYSTEM_ADMIN
from registry.accounts.service import (
    Actor,
    IssuedToken,
    Unauthenticated,
    actor_for_token,
    create_agency,
    create_token,
    create_user,
    list_agencies,
    list_tokens,
    login,
    revoke_token,
    set_active,
)

__all__ = [
    "AGENCY_ADMIN", "CASEWORKER", "DPO", "NATIONAL_REVIEWER", "ROLES", "SYSTEM_ADMIN",
    "Actor", "IssuedToken", "Unauthenticated", "actor_for_token", "create_agency", "create_token",
    "create_user", "list_agencies", "list_tokens", "login", "revoke_token", "set_active",
]
