"""Which console requests each role may make, decided in one place for every route.

Every console route's least role is, unless it declares another: VIEWER to read (GET, HEAD), and
OPERATOR for anything else, since a form that is sent changes something. So a form added later
is refused to viewers without a line of its own. A route declares another least role with
``@needs(...)`` under its route decorator:

    @router.post("/console/users")
    @needs(ConsoleRole.ADMIN)          # user and key management: admins only
    async def add_user(...): ...

    @router.post("/console/sign-out")
    @anyone                            # what every signed-in user may do
    async def sign_out(...): ...

``signed_in`` (``console/web.py``), which every console page depends on, applies the rule.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request

from entrygate.domain.roles import ConsoleRole

F = TypeVar("F", bound=Callable)
_ATTRIBUTE = "__console_role__"
READING = frozenset({"GET", "HEAD"})


def needs(role: ConsoleRole) -> Callable[[F], F]:
    """Declare the least role a console route needs."""
    def mark(endpoint: F) -> F:
        setattr(endpoint, _ATTRIBUTE, role)
        return endpoint
    return mark


anyone = needs(ConsoleRole.VIEWER)  # sign out, change one's own password, and tests that change nothing


def least_role(request: Request) -> ConsoleRole:
    """The role the request's route needs: its declaration, else VIEWER to read and OPERATOR to change."""
    declared = getattr(request.scope.get("endpoint"), _ATTRIBUTE, None)
    if isinstance(declared, ConsoleRole):
        return declared
    return ConsoleRole.VIEWER if request.method in READING else ConsoleRole.OPERATOR
