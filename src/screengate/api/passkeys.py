"""/v1/account/passkeys: add, list, remove; and signing in with a passkey under /v1/auth."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.params import JSONBody, Parameter
from msgspec import Meta, Struct

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, problems
from screengate.api.schemas import Body, DeviceIn, SignedIn
from screengate.domain.sessions import hash_token
from screengate.domain.two_step import Passkey, PendingDevice
from screengate.ports import Ports
from screengate.relying_party import relying_party
from screengate.services import passkeys

PasskeyPath = Annotated[str, Parameter(max_length=64)]
PasskeyName = Annotated[str, Meta(max_length=60, examples=["Ana's laptop"])]


class NewPasskey(Body):
    # The PublicKeyCredential as JSON (PublicKeyCredential.toJSON(), base64url fields).
    credential: dict[str, Any]
    name: PasskeyName | None = None


class PasskeySignIn(Body):
    credential: dict[str, Any]
    device: DeviceIn


class PasskeyOut(Struct):
    passkey_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, passkey: Passkey) -> PasskeyOut:
        return cls(passkey.id, passkey.name, passkey.created_at, passkey.last_used_at)


@post("/options", status_code=200, responses=problems(*AUTHED, 403))
async def registration_options(
    request: Request[Any, Any, Any], ports: Ports, device: Device
) -> dict[str, Any]:
    return await passkeys.registration_options(ports, device, relying_party(request))


@post("/", status_code=201, responses=problems(*AUTHED, 403))
async def add_passkey(
    request: Request[Any, Any, Any],
    data: JSONBody[NewPasskey],
    ports: Ports,
    device: Device,
    ip: str | None,
) -> PasskeyOut:
    added = await passkeys.add_passkey(
        ports, device, relying_party(request), data.credential, data.name, ip
    )
    return PasskeyOut.of(added)


@get("/", responses=problems(*AUTHED))
async def list_passkeys(ports: Ports, device: Device) -> list[PasskeyOut]:
    return [PasskeyOut.of(p) for p in await passkeys.list_passkeys(ports, device)]


@delete("/{passkey_id:str}", status_code=204, responses=problems(*AUTHED, 403, 404))
async def remove_passkey(
    passkey_id: PasskeyPath, ports: Ports, device: Device, ip: str | None
) -> None:
    await passkeys.remove_passkey(ports, device, passkey_id, ip)


@post("/passkey/options", status_code=200, responses=problems())
async def sign_in_options(request: Request[Any, Any, Any], ports: Ports) -> dict[str, Any]:
    return await passkeys.sign_in_options(ports, relying_party(request))


@post("/passkey", status_code=201, responses=problems(401))
async def sign_in_with_passkey(
    request: Request[Any, Any, Any],
    data: JSONBody[PasskeySignIn],
    ports: Ports,
    ip: str | None,
) -> SignedIn:
    user_agent = request.headers.get("user-agent")
    secret = data.device.device_secret
    device = PendingDevice(
        data.device.type.value,
        data.device.name,
        data.device.device_id,
        user_agent,
        secret_hash=hash_token(secret) if secret else None,
    )
    pair = await passkeys.sign_in_with_passkey(
        ports, relying_party(request), data.credential, device, ip
    )
    return SignedIn.of_sign_in(pair)


router = Router(
    "/v1/account/passkeys",
    route_handlers=[registration_options, add_passkey, list_passkeys, remove_passkey],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=[{"bearer": []}],
    tags=["passkeys"],
)
