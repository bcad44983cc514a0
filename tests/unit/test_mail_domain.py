"""The mail rules with no I/O: back-off, links' lifetimes, one-line headers, the templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from screengate.adapters.mail.compose import JinjaMailComposer
from screengate.domain.mail import (
    LINK_LIFETIMES,
    Link,
    LinkPurpose,
    MailKind,
    RetryPolicy,
    header_safe,
)

T0 = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_retries_wait_twice_as_long_each_time_up_to_the_cap_and_stop_at_the_bound() -> None:
    policy = RetryPolicy(timedelta(seconds=5), timedelta(minutes=1), max_attempts=4)
    waits = [policy.delay_after(n).total_seconds() for n in range(1, 6)]
    assert waits == [5, 10, 20, 40, 60]
    assert [policy.gives_up_after(n) for n in (3, 4)] == [False, True]


def test_a_reset_link_lasts_an_hour_and_works_once() -> None:
    link = Link(
        token_hash="h",
        purpose=LinkPurpose.RESET_PASSWORD,
        account_id="a",  # type: ignore[arg-type]
        created_at=T0,
        expires_at=T0 + LINK_LIFETIMES[LinkPurpose.RESET_PASSWORD],
    )
    assert link.usable(T0 + timedelta(minutes=59))
    assert not link.usable(T0 + timedelta(hours=1))
    link.used_at = T0
    assert not link.usable(T0)
    assert LINK_LIFETIMES[LinkPurpose.UNDO_EMAIL] == timedelta(days=7)


@pytest.mark.parametrize(
    "name",
    ["TV\r\nBcc: thief@example.net", "TV\nX: y", "TV\x00", "TV\u2028Bcc: x", "TV\x85Bcc: x"],
)
def test_text_for_a_header_is_one_line(name: str) -> None:
    safe = header_safe(name)
    assert safe.startswith("TV")
    assert not any(c in safe for c in "\r\n\x00\u2028\x85")


def test_every_kind_of_mail_has_a_subject_a_text_and_an_html_part() -> None:
    composer = JinjaMailComposer()
    context: dict[str, object] = {
        "email": "ana@example.com",
        "link": "https://watch.example.com/x?token=t",
        "forgot_link": "https://watch.example.com/forgot-password",
        "when": "1 December 2026 at 21:00 UTC",
        "change": "Two-step sign-in was turned off for your account.",
        "how": None,
        "signed_out": True,
        "count": 3,
        "by": "Ana's phone",
        "device_name": "<b>Hotel TV</b>",
        "device_kind": "Smart TV",
        "location": "Lisbon, Portugal",
        "new_email": "ana@new.example",
        "old_email": "ana@example.com",
    }
    for kind in MailKind:
        mail = composer.compose(kind, context)
        assert mail.subject
        assert "\n" not in mail.subject
        assert mail.text.strip()
        assert mail.html.startswith("<!doctype html>")
    alert = composer.compose(MailKind.NEW_SIGN_IN, context)
    # A device's name is the user's text: escaped in HTML, as is in plain text.
    assert "&lt;b&gt;Hotel TV&lt;/b&gt;" in alert.html
    assert "<b>Hotel TV</b>" in alert.text


def test_links_point_at_the_public_url_or_else_at_this_server() -> None:
    from screengate.config import Settings

    assert Settings(host="127.0.0.1", port=8731).link_base == "http://127.0.0.1:8731"
    assert Settings(host="::1", port=8000).link_base == "http://[::1]:8000"
    public = Settings(public_url="https://watch.example.com/", port=8731)
    assert public.link_base == "https://watch.example.com"
    with pytest.raises(ValueError, match="http"):
        Settings(public_url="javascript:alert(1)")
