"""Rendering pages: the template engine, and the words and times people read on them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from screengate.api.deps import ports_of
from screengate.domain.catalogue import Catalogue
from screengate.domain.devices import DEFAULT_DEVICE_NAMES, DeviceType
from screengate.domain.errors import SignedOut, wait_in_words
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import SignOutReason
from screengate.web import keyboard

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        ago=ago, when=when, device_kind=device_kind, describe=describe, poster=poster
    )
    environment.globals.update(signed_out_detail=signed_out_detail, tv_keyboard=keyboard.rows)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


def page(
    request: Request[Any, Any, Any], template: str, *, status: int = 200, **context: Any
) -> Template:
    ports = ports_of(request.app.state)
    return Template(
        template_name=template,
        context={
            "now": ports.clock.now(),
            "title_name": _title_namer(ports.catalogue),
            **context,
        },
        status_code=status,
    )


def _title_namer(catalogue: Catalogue) -> Any:
    names = {t.id: t.name for t in catalogue}

    def title_name(title_id: str) -> str:
        # Titles gone from the catalogue still read as words: "the-crown-s2e3", "The Crown S2E3".
        return names.get(title_id) or title_id.replace("-", " ").title()

    return title_name


def signed_out_detail(reason: str | None) -> str | None:
    """The sentence a signed-out device shows: "You were signed out from another device."."""
    if reason not in {r.value for r in SignOutReason}:
        return None
    return SignedOut(str(reason), None).detail


def ago(at: datetime, now: datetime) -> str:
    seconds = int((now - at).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            if unit == "day" and count > 30:
                return f"on {at:%-d %b %Y}"
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"  # pragma: no cover - the loop always returns


def when(at: datetime) -> str:
    return f"{at:%-d %b %Y, %H:%M} UTC"


def device_kind(device_type: str | None) -> str:
    try:
        return DEFAULT_DEVICE_NAMES[DeviceType(str(device_type))]
    except ValueError:
        return "Device"


_REASONS = {
    "signed_out_here": "signed out on the device itself",
    "signed_out_remotely": "signed out from another device",
    "signed_out_everywhere": "Sign out of all devices",
    "password_changed": "the password was changed",
    "expired": "the session expired",
    "token_reuse": "its credentials were used twice",
    "operator": "customer support",
    "password_reset": "the password was reset from an emailed link",
    "account_secured": "the owner chose This wasn't me",
    "temporary_access_ended": "its temporary sign-in ended",
}


def describe(event: SecurityEvent) -> str:
    """One line of the security log, as a person would say it."""
    detail, device = event.detail, event.device_name or "A device"
    match event.kind:
        case EventKind.SIGNED_UP:
            return f"Account created on the {detail.get('plan', '')} plan".replace("  ", " ")
        case EventKind.SIGNED_IN:
            fresh = " (a new device)" if detail.get("new_device") else ""
            how = _METHODS.get(str(detail.get("second_factor") or detail.get("method")))
            return f"Signed in on {device}{fresh}" + (f" with {how}" if how else "")
        case EventKind.SIGN_IN_FAILED:
            return "Failed sign-in: wrong password"
        case EventKind.SIGNED_OUT:
            reason = _REASONS.get(str(detail.get("reason")), str(detail.get("reason")))
            by = detail.get("by_device_name")
            by_text = f", from {by}" if by and by != event.device_name else ""
            return f"{device} was signed out: {reason}{by_text}"
        case EventKind.PASSWORD_CHANGED:
            others = detail.get("signed_out_other_devices")
            tail = "; every other device was signed out" if others else ""
            return f"Password changed{tail}"
        case EventKind.PLAN_CHANGED:
            return f"Plan changed from {detail.get('from')} to {detail.get('to')}"
        case EventKind.TOKEN_REUSE:
            return f"{device} was signed out: its credentials were used twice"
        case EventKind.PROFILE_CREATED:
            return f"Profile {detail.get('profile_name')} added"
        case EventKind.PROFILE_DELETED:
            return f"Profile {detail.get('profile_name')} deleted"
        case EventKind.SIGN_IN_UNLOCKED:
            return "Sign-in unlocked by customer support"
        case EventKind.PIN_FAILED:
            return f"Wrong PIN for {detail.get('profile_name')}'s profile on {device}"
        case EventKind.PIN_ATTEMPTS_EXCEEDED:
            wait = detail.get("retry_after")
            paused = (
                f": PIN entry paused for {wait_in_words(wait)}" if isinstance(wait, int) else ""
            )
            return f"Too many wrong PINs for {detail.get('profile_name')}'s profile{paused}"
        case EventKind.PASSWORD_CHECK_FAILED:
            return f"Wrong password given on {device} to {detail.get('for', 'make a change')}"
        case EventKind.PROFILE_PIN_CHANGED:
            done = "removed" if detail.get("lock") == "removed" else "set"
            return f"PIN {done} for {detail.get('profile_name')}'s profile on {device}"
        case EventKind.MAIL_QUEUED:
            return _mail_line(event)
        case EventKind.MAIL_LINK_OPENED:
            return "A link from our email was opened"
        case EventKind.PASSWORD_RESET_REQUESTED:
            return "Password reset asked for: we emailed a link"
        case EventKind.PASSWORD_RESET:
            return "Password reset from an emailed link; every device was signed out"
        case EventKind.ACCOUNT_SECURED:
            return "Account secured (This wasn't me): every device signed out, password locked"
        case EventKind.EMAIL_CHANGE_REQUESTED:
            return f"Email change asked for: a confirmation link went to {detail.get('to')}"
        case EventKind.EMAIL_CHANGED:
            return f"Email changed from {detail.get('from')} to {detail.get('to')}"
    if event.kind in _CODE_WORDS:
        return _code_line(event)
    # Kinds added later still read.
    return _two_step_line(event) or str(event.kind).replace("_", " ").capitalize()


_METHODS = {"totp": "a code", "recovery_code": "a recovery code", "passkey": "a passkey"}


def _two_step_line(event: SecurityEvent) -> str | None:
    """Two-step sign-in's lines of the security log."""
    detail, device = event.detail, event.device_name or "a device"
    method = _METHODS.get(str(detail.get("method")), "the password")
    match event.kind:
        case EventKind.TWO_STEP_ENABLED:
            return "Two-step sign-in turned on"
        case EventKind.TWO_STEP_DISABLED:
            by = " by customer support" if detail.get("by") == "operator" else ""
            return f"Two-step sign-in turned off{by}"
        case EventKind.RECOVERY_CODES_REGENERATED:
            return "New recovery codes made; the old ones stopped working"
        case EventKind.RECOVERY_CODE_USED:
            return f"A recovery code was used to sign in ({detail.get('codes_left')} left)"
        case EventKind.SECOND_FACTOR_FAILED:
            what = "recovery code" if detail.get("method") == "recovery_code" else "code"
            return f"Failed sign-in: wrong {what}"
        case EventKind.PASSKEY_ADDED:
            return f"Passkey {detail.get('passkey_name')} added"
        case EventKind.PASSKEY_REMOVED:
            return f"Passkey {detail.get('passkey_name')} removed"
        case EventKind.REAUTHENTICATED:
            return f"Confirmed it's you with {method} on {device}"
        case EventKind.REAUTH_FAILED:
            return f"Wrong answer to Confirm it's you on {device}"
    return None


_MAILS = {
    "password_reset": "Password reset link",
    "password_changed": "Your password was changed",
    "new_sign_in": "New sign-in alert",
    "account_secured": "Account secured, with a reset link",
    "signed_out_everywhere": "Signed out of all devices",
    "email_change_confirm": "Confirm your new email",
    "email_changed": "Your email was changed",
}
_DELIVERY = {"pending": "not sent yet", "sent": "delivered", "failed": "could not be delivered"}


def _mail_line(event: SecurityEvent) -> str:
    detail = event.detail
    name = _MAILS.get(str(detail.get("mail")), "An email")
    line = f"Email sent: {name}, to {detail.get('to')}"
    if detail.get("delivery"):
        line += f" · {_DELIVERY.get(str(detail['delivery']), str(detail['delivery']))}"
    if detail.get("opened"):
        line += " · opened from the link"
    return line


_CODE_WORDS = {
    EventKind.DEVICE_CODE_REQUESTED: "asked to sign in with code",
    EventKind.DEVICE_CODE_APPROVED: "was approved to sign in with code",
    EventKind.DEVICE_CODE_DENIED: "was denied signing in with code",
    EventKind.DEVICE_CODE_EXPIRED: "did not use code",
    EventKind.DEVICE_CODE_VOIDED: "can no longer use code",
    EventKind.SIGNED_IN_UNTIL_CHANGED: "now stays signed in until",
}


def _code_line(event: SecurityEvent) -> str:
    """A TV code's lines: "Hotel TV (from Lisbon) was approved to sign in with code BCDF-GHJK,
    from Ana's phone, until 2 Dec 2026, 11:00 UTC"."""
    detail, device = event.detail, event.device_name or "A device"
    words = _CODE_WORDS[event.kind]
    if event.kind is EventKind.SIGNED_IN_UNTIL_CHANGED:
        return f"{device} {words} {_at(detail.get('to'))}"
    where = detail.get("tv_location") or (
        event.location if event.kind is not EventKind.DEVICE_CODE_APPROVED else None
    )
    line = f"{device}{f' (from {where})' if where else ''} {words} {detail.get('user_code', '')}"
    if detail.get("by_device_name"):
        line += f", from {detail['by_device_name']}"
    if detail.get("signed_in_until"):
        line += f", until {_at(detail.get('signed_in_until'))}"
    return line.rstrip()


def _at(text: object) -> str:
    try:
        return when(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
    except ValueError:
        return str(text)


def poster(title_id: str) -> str:
    """A title's poster colours, the same every time: two hues from a hash of its id."""
    digest = hashlib.sha256(title_id.encode()).digest()
    first, second = digest[0] * 360 // 256, digest[1] * 360 // 256
    return f"--poster-a: hsl({first} 55% 32%); --poster-b: hsl({second} 60% 18%);"
