"""Mail from Jinja templates: a plain-text and an HTML part per kind, in the product's voice."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from screengate.domain.mail import MailKind, header_safe
from screengate.ports import ComposedMail

TEMPLATES = Path(__file__).parent / "templates"

SUBJECTS = {
    MailKind.PASSWORD_RESET: "Reset your screengate password",
    MailKind.PASSWORD_CHANGED: "Your password was changed",
    MailKind.NEW_SIGN_IN: "New sign-in on {device_name}",
    MailKind.ACCOUNT_SECURED: "We signed everyone out: choose a new password",
    MailKind.SIGNED_OUT_EVERYWHERE: "You signed out of all devices",
    MailKind.EMAIL_CHANGE_CONFIRM: "Confirm your new email address",
    MailKind.EMAIL_CHANGED: "Your screengate email was changed",
    MailKind.SECURITY_CHANGED: "A change to how your screengate account is protected",
}


class JinjaMailComposer:
    """ports.MailComposer over the templates in this folder: <kind>.txt and <kind>.html."""

    def __init__(self, product: str = "screengate") -> None:
        self._product = product
        self._text = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,  # noqa: S701 - the plain-text part is not HTML
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._html = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
        )

    def compose(self, kind: MailKind, context: dict[str, object]) -> ComposedMail:
        values = {"product": self._product, **context}
        subject = SUBJECTS[kind].format(**{k: header_safe(str(v), 60) for k, v in values.items()})
        return ComposedMail(
            subject=header_safe(subject, 150),
            text=self._text.get_template(f"{kind.value}.txt").render(values),
            html=self._html.get_template(f"{kind.value}.html").render(values, subject=subject),
        )
