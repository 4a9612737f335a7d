"""Who is acting: the identity every flow receives and every event records."""

from __future__ import annotations

from dataclasses import dataclass

from panjereh.auth.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user (or the system itself) as flows see it."""

    id: int | None
    username: str
    role: Role | None
    agency_code: str | None = None
    # The machine credential an agency's system acts with (None for people).
    key_id: str | None = None

    @property
    def is_system(self) -> bool:
        """The system acting on its own (worker, demo loader, CLI), not a signed-in user."""
        return self.id is None


SYSTEM = Principal(id=None, username="system", role=None)
