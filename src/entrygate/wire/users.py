"""Console users as the API shows them: never a password or its hash."""
from __future__ import annotations

from pydantic import Field

from entrygate.wire.answers import Answer, UserOut


class UserListOut(Answer):
    users: list[UserOut] = Field(description="The retailer's console users, each with its role.")
