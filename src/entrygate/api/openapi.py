"""The OpenAPI document at ``/openapi.json``: what each route accepts, whom, and how it can answer.

The routes read their JSON and their query themselves (to refuse card numbers and oversized
bodies before validation) and authenticate inside the handler (``principal(request, kinds...)``,
so that a key outside its scope hears 401/403 before its body is judged), so FastAPI sees none of
it. A route says it with declarations passed as ``openapi_extra``, combined with ``|``:

    @router.post("/v1/lists/{list}/items", status_code=201, summary="Add an item to a list",
                 response_model=ListItemOut,
                 openapi_extra=secured(KeyKind.RETAILER, KeyKind.OPERATOR, errors={409: "..."})
                 | body(ListItemIn, example={...}))

- ``secured(*kinds, errors=...)``: the key kinds the route passes to ``principal`` (its
  ``security``, one bearer scheme per kind, any one of them will do), and with them the answers
  401, 403, 503, and 429 for the kinds that are rate limited; ``errors`` adds the route's own
  (409, or 404 on a route without path parameters), by status and a sentence saying when.
- ``body(Model, example=..., examples=...)``: the request body.
- ``query(Model)``: the query parameters a route parses with ``wire.parse.parse(Model, ...)``.

``install`` completes every operation the same way: 400 (every route answers it: a URL with
U+0000, a malformed body or query), 404 where the path has parameters, and FastAPI's 422 removed
(the API answers 400 with the error body). A route needs nothing more than its ``response_model``
and these declarations for a complete, truthful operation.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from entrygate.domain.keys import KeyKind
from entrygate.wire.answers import ErrorBody, SeedErrorBody

_DECLARED: dict[str, type[BaseModel]] = {}
_REF = "#/components/schemas/{model}"

SCHEMES: dict[KeyKind, str] = {KeyKind.GATE: "gateKey", KeyKind.RETAILER: "retailerKey",
                               KeyKind.OPERATOR: "operatorToken"}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "gateKey": {
        "type": "http", "scheme": "bearer", "bearerFormat": "eggk_<key id>_<secret>",
        "description": "A gate's API key, one per gate: `POST /v1/admin/stores/{storeId}/gates` (with the operator "
                       "token or the store's retailer key) answers it as `apiKey`, once. The gate sends "
                       "`Authorization: Bearer eggk_…` with every entry and exit."},
    "retailerKey": {
        "type": "http", "scheme": "bearer", "bearerFormat": "egrk_<key id>_<secret>",
        "description": "A retailer's API key: `POST /v1/admin/retailers` (with the operator token) answers it as "
                       "`apiKey`, once. It manages that retailer's stores and gates, reads its trips and "
                       "decisions, settles its trips and reports feedback; another retailer's things are 404 "
                       "(403 in administration)."},
    "operatorToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "egop_<key id>_<secret>",
        "description": "The operator's token: `entrygate admin create-token` prints one, run where the platform's "
                       "database is (the same `ENTRYGATE_DATABASE_URL` as `entrygate serve`). It may act for "
                       "every retailer."},
}
# DESIGN 15: gate and retailer keys have a request budget; operator tokens are not limited.
RATE_LIMITED = frozenset({KeyKind.GATE, KeyKind.RETAILER})

STANDARD_ERRORS: dict[int, str] = {
    400: "VALIDATION_ERROR: a field is missing or malformed (`fields` names it), the body is not a JSON object, "
         "holds a card number, or is too large (PAYLOAD_TOO_LARGE); a URL with U+0000.",
    401: "UNAUTHENTICATED: no `Authorization: Bearer <key>`, or a key that is unknown or revoked.",
    403: "FORBIDDEN: a key of another kind than this route takes, or used outside its scope.",
    404: "NOT_FOUND: no such resource, or one of another retailer.",
    409: "CONFLICT: the request contradicts the state of what it names.",
    429: "RATE_LIMITED: the key is over its request budget; try again after `Retry-After` seconds.",
    503: "UNAVAILABLE: the database (or a part of the platform this needs) is unavailable; nothing was changed.",
}
# What the path parameters of the API name; a route's own ``Path(description=...)`` wins.
PATH_PARAMETERS: dict[str, str] = {
    "gateId": "The gate's id, as given when it was created (`lane-1`); a gate key acts only for its own gate.",
    "storeId": "The store's id, as given when it was created (`store-001`).",
    "retailerId": "The retailer's id (`ret_…`), from `POST /v1/admin/retailers`.",
    "shoppingTripId": "The trip's id (`trip_…`), from the entry's answer.",
    "palmId": "The enrollment's id (`palm_…`), from `POST /v1/palm/enrollments`.",
    "name": "The connector: `identity` or `shopperAuthorization`.",
    "listName": "The list: `allow` or `block` (any other name is 404).",
    "itemId": "The list item's id, from the answer that added it or the list.",
    "reviewId": "The review's id, from the store's review queue.",
    "keyId": "The key's id (`keyId` in the key's listing or in the answer that made it; the part of the key after "
             "its prefix).",
    "userId": "The console user's id, from the retailer's user list.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Whole seconds to wait before the next request.",
                                "schema": {"type": "integer", "minimum": 0}}}


class OpenApiExtra(dict[str, Any]):
    """An operation's declarations; ``a | b`` merges them deeply (lists of parameters add up)."""

    def __or__(self, other: Mapping[str, Any]) -> OpenApiExtra:  # type: ignore[override]
        return OpenApiExtra(_merge(self, other))

    def __ror__(self, other: Mapping[str, Any]) -> OpenApiExtra:  # type: ignore[override]
        return OpenApiExtra(_merge(other, self))  # a plain dict on the left merges deeply too


def _merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if isinstance(out.get(key), Mapping) and isinstance(value, Mapping):
            out[key] = _merge(out[key], value)
        elif isinstance(out.get(key), list) and isinstance(value, list):
            out[key] = [*out[key], *value]
        else:
            out[key] = value
    return out


def error_response(status: int, description: str | None = None, *,
                   schema: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    """One error answer of an operation: its sentence and the error body's schema."""
    declare(schema)
    answer: dict[str, Any] = {"description": description or STANDARD_ERRORS[status],
                              "content": {"application/json": {"schema": {"$ref": _REF.format(model=schema.__name__)}}}}
    if status == 429:
        answer["headers"] = _RETRY_AFTER
    return answer


def seed_bad_request() -> dict[str, Any]:
    """The feedback endpoints' 400: the seed system's ``{"errorType", "errorMsg"}``, or the error body for a URL
    the platform refuses before any route."""
    declare(ErrorBody, SeedErrorBody)
    return {"description": "A field is missing or malformed, or the store or trip is unknown to this retailer, in "
                           "the seed system's format (`errorType`, `errorMsg`), so existing retailer back ends read "
                           "it unchanged.",
            "content": {"application/json": {"schema": {"anyOf": [
                {"$ref": _REF.format(model="SeedErrorBody")}, {"$ref": _REF.format(model="ErrorBody")}]}}}}


def secured(*kinds: KeyKind, errors: Iterable[int] | Mapping[int, str | dict[str, Any]] = ()) -> OpenApiExtra:
    """The route authenticates with ``principal(request, *kinds)``: its security and the error answers that go with it.

    ``errors``: the route's own answers besides the standard ones, by status, each with the sentence saying
    when (or a whole response object); a bare status takes the standard sentence.
    """
    if not kinds:
        raise ValueError("secured() needs the key kinds the route accepts")
    own = dict(errors) if isinstance(errors, Mapping) else dict.fromkeys(errors)
    statuses = {401, 403, 503, *own}
    if RATE_LIMITED & set(kinds):
        statuses.add(429)
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        given = own.get(status)
        responses[str(status)] = given if isinstance(given, dict) else error_response(status, given)
    return OpenApiExtra(security=[{SCHEMES[kind]: []} for kind in kinds], responses=responses)


def body(model: type[BaseModel], *, example: dict[str, Any] | None = None,
         examples: Mapping[str, tuple[str, dict[str, Any]]] | None = None, required: bool = True) -> OpenApiExtra:
    """The request body: ``model``'s schema; ``examples`` maps a name to (summary, value)."""
    declare(model)
    content: dict[str, Any] = {"schema": {"$ref": _REF.format(model=model.__name__)}}
    if example is not None:
        content["example"] = example
    if examples:
        content["examples"] = {name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()}
    return OpenApiExtra(requestBody={"required": required, "content": {"application/json": content}})


def query(model: type[BaseModel]) -> OpenApiExtra:
    """The query parameters of a route that parses ``model`` from its query string."""
    schema = model.model_json_schema(ref_template=_REF)
    declare_defs(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return OpenApiExtra(parameters=parameters)


def declare(*models: type[BaseModel]) -> None:
    """Put ``models`` in ``components.schemas`` (a route's body refers to them there)."""
    for model in models:
        _DECLARED[model.__name__] = model


_EXTRA_DEFS: dict[str, dict[str, Any]] = {}


def declare_defs(defs: Mapping[str, dict[str, Any]]) -> None:
    _EXTRA_DEFS.update(defs)


declare(ErrorBody)


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``, complete: the declared schemas, security schemes and error answers."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, defs = models_json_schema([(m, "validation") for m in _DECLARED.values()], ref_template=_REF)
    schemas.update(defs.get("$defs", {}))
    schemas.update(_EXTRA_DEFS)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _complete(path, operation)
    return schema


def _complete(path: str, operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and "description" not in parameter and parameter["name"] in PATH_PARAMETERS:
            parameter["description"] = PATH_PARAMETERS[parameter["name"]]
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    responses.setdefault("400", error_response(400))
    if "{" in path:
        responses.setdefault("404", error_response(404))
    operation["responses"] = dict(sorted(responses.items()))


def install(app: FastAPI) -> None:
    """Serve ``document(app)`` as the app's OpenAPI document (built once, on the first request)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
