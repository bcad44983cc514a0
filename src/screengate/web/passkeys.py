"""Passkeys on the pages: JSON for passkeys.js (options, answers), a form to remove one."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.params import Parameter

from screengate.domain.errors import InvalidPasskey, PasskeyNotFound
from screengate.domain.sessions import hash_token
from screengate.domain.two_step import PendingDevice
from screengate.ports import Ports
from screengate.relying_party import relying_party
from screengate.services import passkeys
from screengate.web.cookies import device_of, send_later, session_cookies
from screengate.web.entry import device_name_for
from screengate.web.errors import go_to
from screengate.web.forms import local_path
from screengate.web.session import Viewer
from screengate.web.surfaces import Surface

PasskeyPath = Annotated[str, Parameter(max_length=64)]
SECURITY = "/account/security"


@post(f"{SECURITY}/passkeys/options", status_code=200)
async def registration_options(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer
) -> dict[str, Any]:
    return await passkeys.registration_options(ports, viewer.principal, relying_party(request))


@post(f"{SECURITY}/passkeys", status_code=201)
async def add_passkey(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> dict[str, Any]:
    body = await _json(request)
    name = body.get("name")
    added = await passkeys.add_passkey(
        ports,
        viewer.principal,
        relying_party(request),
        _credential(body),
        name if isinstance(name, str) else None,
        ip,
    )
    return {"passkey_id": added.id, "name": added.name}


@post(f"{SECURITY}/passkeys/{{passkey_id:str}}/remove")
async def remove_passkey(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    passkey_id: PasskeyPath,
    ip: str | None,
) -> Response[Any]:
    # Removed meanwhile, from elsewhere: the list just catches up.
    with suppress(PasskeyNotFound):
        await passkeys.remove_passkey(ports, viewer.principal, passkey_id, ip)
    return go_to(request, f"{SECURITY}?done=passkey_removed")


@post("/sign-in/passkey/options", status_code=200)
async def sign_in_options(request: Request[Any, Any, Any], ports: Ports) -> dict[str, Any]:
    return await passkeys.sign_in_options(ports, relying_party(request))


@post("/sign-in/passkey", status_code=200)
async def sign_in_with_passkey(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface, ip: str | None
) -> dict[str, Any]:
    body = await _json(request)
    user_agent = request.headers.get("user-agent")
    device_id, secret = device_of(request, surface)
    device = PendingDevice(
        surface.device_type.value,
        device_name_for(ports, surface, user_agent),
        device_id,
        user_agent,
        secret_hash=hash_token(secret) if secret else None,
    )
    pair = await passkeys.sign_in_with_passkey(
        ports, relying_party(request), _credential(body), device, ip
    )
    send_later(request, session_cookies(request, surface, pair, ports.policy))
    next_url = body.get("next")
    fallback = surface.url("/profiles")
    return {"location": local_path(next_url if isinstance(next_url, str) else None, fallback)}


@post("/account/confirm/passkey", status_code=204)
async def confirm_with_passkey(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> None:
    body = await _json(request)
    rp = relying_party(request)
    await passkeys.reauthenticate_with_passkey(ports, viewer.principal, rp, _credential(body), ip)


async def _json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception:  # any unreadable body is the same bad request
        raise InvalidPasskey() from None
    if not isinstance(body, dict):
        raise InvalidPasskey()
    return body


def _credential(body: dict[str, Any]) -> dict[str, Any]:
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise InvalidPasskey()
    return credential
