"""Errors that carry the field and the reason, so every rejection can say both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class InvalidInput(ValueError):
    """One or more fields were rejected. Nothing was stored."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))

    @classmethod
    def one(cls, field: str, reason: str) -> InvalidInput:
        return cls([FieldError(field, reason)])


class NotFound(LookupError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    def __init__(self, what: str, ident: str = ""):
        self.what = what
        self.ident = ident
        super().__init__(f"{what} not found")


class Conflict(RuntimeError):
    """The request clashes with stored state (a duplicate key, a decision already taken)."""

    def __init__(self, reason: str, field: str | None = None):
        self.reason = reason
        self.field = field
        super().__init__(reason)


class Stale(RuntimeError):
    """An update's precondition: `required` when no If-Match was sent (428), else the version read is not the
    stored one any more (412)."""

    def __init__(self, required: bool = False):
        self.required = required
        super().__init__("precondition required" if required else "precondition failed")
