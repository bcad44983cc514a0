"""Reading the pages' forms, and turning domain errors into messages beside the right field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Request

from screengate.domain.errors import DomainError

MAX_FIELD = 1024


@dataclass(slots=True)
class FormErrors:
    """What went wrong: one sentence at the top, and a message per field."""

    summary: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.summary or self.fields)

    @classmethod
    def of(cls, error: DomainError, default_field: str | None = None) -> FormErrors:
        name = error.extra.get("field") or default_field
        fields = {str(name): error.detail} if name else {}
        return cls(summary=error.detail, fields=fields)


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted fields, first value of each, trimmed to a sane length."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in values:
            values[key] = value[:MAX_FIELD]
    # For the error mapping, which cannot await: "confirm it's you" sends the form on again.
    request.scope.setdefault("state", {})[SUBMITTED] = values
    return values


SUBMITTED = "screengate_form"


def submitted_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """What form_of() read from this request, if it read one."""
    found = request.scope.get("state", {}).get(SUBMITTED)
    return dict(found) if isinstance(found, dict) else {}


# A path on this site, in characters no browser strips, folds or reads as a host: one slash
# first (never two: "//evil.com" is another host), then only RFC 3986's path and query
# characters. No backslash ("/\\evil.com" is "//evil.com" to a browser), no tab, newline or
# other control character (browsers drop them: "/\t/evil.com" is "//evil.com"), no space, no
# "#", nothing outside ASCII (a header cannot carry it). "https:evil.com" has no leading slash.
_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


def local_path(target: str | None, fallback: str) -> str:
    """Only a path on this site: a `next` parameter must not send anyone elsewhere."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return fallback
