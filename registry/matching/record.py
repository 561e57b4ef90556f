"""What the matcher reads of a record: the fields of an identity, named here so that matching does not depend on
the identity package (any object with these attributes will do: `registry.identity.Identity` is one)."""

from __future__ import annotations

from typing import Any, Protocol


class BirthDate(Protocol):
    """A partial date of birth: the year, and the month and day when known."""

    year: int
    month: int | None
    day: int | None
    estimated: bool


class RecordFields(Protocol):
    given_name: str | None
    father_name: str | None
    grandfather_name: str | None
    family_name: str | None
    mother_given_name: str | None
    mother_family_name: str | None
    date_of_birth: BirthDate | None
    sex: str | None
    governorate: str | None
    national_id: str | None

    def to_dict(self) -> dict[str, Any]: ...
