"""Reading the pages' forms, and turning domain errors into messages beside the right field."""

from __future__ import annotations

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
    return values


def local_path(target: str | None, fallback: str) -> str:
    """Only a path on this site: a `next` parameter must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback
