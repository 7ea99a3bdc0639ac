"""Console users as the API shows them: never a password or its hash."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from entrygate.domain.roles import ConsoleRole


class UserOut(BaseModel):
    userId: str
    retailerId: str
    email: str
    role: ConsoleRole
    createdAt: datetime | None = None


class UserList(BaseModel):
    users: list[UserOut]
