"""What a use case can refuse. The API maps each to one HTTP status, in one place (api/errors.py).

    ServiceError
    ├── NotAuthenticated      401  no key, or a key that is not ours
    ├── Forbidden             403  a key used outside its scope
    ├── NotFound              404  unknown gate, store, trip
    ├── Conflict              409  an event id reused with another body; an id taken
    ├── InvalidRequest        400  a field is missing or malformed (names the field)
    ├── RateLimited           429  a key beyond its budget (Retry-After: whole seconds)
    └── Unavailable           503  storage failed: no decision was recorded, so none is given
"""
from __future__ import annotations


class ServiceError(Exception):
    code = "ERROR"

    def __init__(self, message: str, *, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []


class NotAuthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class NotFound(ServiceError):
    code = "NOT_FOUND"


class Conflict(ServiceError):
    code = "CONFLICT"


class InvalidRequest(ServiceError):
    code = "VALIDATION_ERROR"


class Unavailable(ServiceError):
    code = "UNAVAILABLE"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"this key is over its rate limit; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s
