"""Request and response shapes of the HTTP API (pydantic, at the edge only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IdentityFields(BaseModel):
    """A child's identity fields as an agency sends them (registration and lookup alike); all optional."""

    model_config = ConfigDict(extra="forbid", str_max_length=200)

    given_name: str | None = None
    father_name: str | None = None
    grandfather_name: str | None = None
    family_name: str | None = None
    mother_given_name: str | None = None
    mother_family_name: str | None = None
    full_name: str | None = Field(default=None, description="Split into the chain when the parts are not given")
    sex: str | None = Field(default=None, description="M or F")
    date_of_birth: str | None = Field(default=None, description="YYYY-MM-DD, YYYY-MM, YYYY; '~' for estimated")
    governorate: str | None = Field(default=None, description="ISO 3166-2 code (SY-DI, EG-C) or name")
    place_of_birth: str | None = None
    national_id: str | None = None


class IdentityIn(IdentityFields):
    """A record to register. Every field but source_ref is optional."""

    source_ref: str = Field(description="The institution's local case reference")
    institution: str | None = Field(default=None, description="Institution code (defaults to the caller's)")


class RegisteredOut(BaseModel):
    child_id: str
    outcome: str


class CaseRecordOut(BaseModel):
    institution: str
    source_ref: str | None
    since: str
    status: str
    identity: dict | None


class ChildOut(BaseModel):
    child_id: str
    status: str
    records: list[CaseRecordOut]
