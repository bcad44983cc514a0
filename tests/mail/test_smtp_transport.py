"""The SMTP transport against aiosmtpd servers that demand STARTTLS and a login, or TLS from the
first byte; and how SCREENGATE_SMTP_URL is read."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from screengate.adapters.mail.transport import DeliveryFailed, SmtpServer, SmtpTransport
from screengate.domain.mail import MailKind, Message
from tests.support.smtp import Inbox, free_port

USER, SECRET = "screengate", "p@ss:word/1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def check_login(
    server: SMTP, session: object, envelope: object, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        SECRET.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
        auth_require_tls=True,
        # aiosmtpd's LOGIN exchange stalls after a refusal; PLAIN is what providers offer.
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=server_context(certificate),
        authenticator=check_login,
        auth_required=True,
        # The connection is TLS from the first byte, which aiosmtpd does not count as STARTTLS.
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def message(to: str = "ana@example.com") -> Message:
    return Message(
        id="11111111-2222",
        to=to,
        subject="Your password was changed",
        text="Hi,\n",
        html="<p>Hi,</p>",
        kind=MailKind.PASSWORD_CHANGED,
        created_at=dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC),
    )


QUOTED = "screengate:p%40ss%3Aword%2F1"


def test_starttls_and_a_login_deliver(
    starttls_server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = starttls_server
    url = f"smtp://{QUOTED}@127.0.0.1:{port}?starttls"
    transport = SmtpTransport(url, "no-reply@example.com", tls_context=client_context(certificate))
    asyncio.run(transport.deliver(message()))
    [received] = inbox.wait_for("ana@example.com")
    assert received.subject == "Your password was changed"


# aiosmtpd warns because it does not count implicit TLS as TLS: the connection is encrypted.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_tls_from_the_first_byte_delivers(
    tls_server: tuple[Inbox, int], certificate: tuple[Path, Path]
) -> None:
    inbox, port = tls_server
    url = f"smtps://{QUOTED}@127.0.0.1:{port}"
    transport = SmtpTransport(url, "no-reply@example.com", tls_context=client_context(certificate))
    asyncio.run(transport.deliver(message()))
    inbox.wait_for("ana@example.com")


def test_an_untrusted_certificate_is_refused_and_tried_again_later(
    starttls_server: tuple[Inbox, int],
) -> None:
    inbox, port = starttls_server
    transport = SmtpTransport(f"smtp://{QUOTED}@127.0.0.1:{port}?starttls", "no-reply@example.com")
    with pytest.raises(DeliveryFailed) as failed:
        asyncio.run(transport.deliver(message()))
    assert not failed.value.permanent
    assert inbox.received == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, None, None, False, False)),
        (
            "smtp://u:p%40ss@mail.example.com?starttls",
            SmtpServer("mail.example.com", 587, "u", "p@ss", False, True),
        ),
        (
            "smtp://mail.example.com:2525?starttls=false",
            SmtpServer("mail.example.com", 2525, None, None, False, False),
        ),
        (
            "smtps://u:p@mail.example.com",
            SmtpServer("mail.example.com", 465, "u", "p", True, False),
        ),
        (
            "smtps://mail.example.com?starttls",
            SmtpServer("mail.example.com", 465, None, None, True, False),
        ),
    ],
)
def test_the_smtp_url_is_read_as_documented(url: str, expected: SmtpServer) -> None:
    assert SmtpServer.from_url(url) == expected
