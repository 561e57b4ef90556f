"""Accounts: Argon2id password hashing and API-token secrets (`secrets_`).

The use cases on agencies, users and tokens are in `registry.services.accounts`; the roles are the policy's
vocabulary (`registry.consent.roles`); the tables are in `registry.store.tables.accounts`.
"""
