"""OpenAPI descriptions of the problem answers a route can give."""

from __future__ import annotations

from litestar.openapi.datastructures import ResponseSpec

from screengate.api.schemas import Problem

_DESCRIPTIONS = {
    400: "Malformed body",
    401: "Missing, unknown or expired credential, or the device was signed out (`code`)",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone: the stream has ended (`reason` says why)",
    413: "Body too large",
    422: "Validation error (`errors` lists the fields)",
    429: "Too many attempts (`too_many_attempts`, `too_many_pin_attempts`) or open event "
    "streams (`too_many_event_streams`); see Retry-After",
    503: "Busy: every place for password hashing, or every database connection, is taken "
    "(`server_busy`); see Retry-After",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(status, "Problem"),
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in (400, 413, 422, *statuses)
    }


AUTHED = (401,)
# What the routes that call current_device() require; the public ones (sign-up, sign-in,
# refresh, titles, health) declare nothing, so OpenAPI does not ask them for a token.
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
