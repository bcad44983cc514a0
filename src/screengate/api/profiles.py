"""/v1/profiles: "Who's watching?"."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, patch, post
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import NewProfile, ProfileOut, ProfilePatch
from screengate.domain.ids import ProfileId
from screengate.ports import Ports
from screengate.services import profiles

ProfilePath = Annotated[str, Parameter(max_length=64)]


@get("/", responses=problems(*AUTHED))
async def list_profiles(ports: Ports, device: Device) -> list[ProfileOut]:
    return [ProfileOut.of(p) for p in await profiles.list_profiles(ports, device)]


@post("/", status_code=201, responses=problems(*AUTHED, 409))
async def create_profile(data: JSONBody[NewProfile], ports: Ports, device: Device) -> ProfileOut:
    profile = await profiles.create_profile(
        ports, device, name=data.name, kids=data.kids, pin=data.pin
    )
    return ProfileOut.of(profile)


@patch(
    "/{profile_id:str}",
    responses=problems(*AUTHED, 403, 404, 409, 429, 503),
    description="Rename, mark for kids, lock with a PIN or unlock (`pin: null`). Setting or "
    "removing a PIN needs the account `password` (403 `wrong_password` without the right one).",
)
async def update_profile(
    profile_id: ProfilePath,
    data: JSONBody[ProfilePatch],
    ports: Ports,
    device: Device,
    ip: str | None,
) -> ProfileOut:
    changes = profiles.ProfileChanges(
        name=data.name,
        kids=data.kids,
        pin=data.pin if isinstance(data.pin, str) else None,
        remove_pin=data.pin is None,
        password=data.password,
    )
    profile = await profiles.update_profile(ports, device, ProfileId(profile_id), changes, ip=ip)
    return ProfileOut.of(profile)


@delete("/{profile_id:str}", status_code=204, responses=problems(*AUTHED, 404, 409))
async def delete_profile(profile_id: ProfilePath, ports: Ports, device: Device) -> None:
    await profiles.delete_profile(ports, device, ProfileId(profile_id))


router = Router(
    "/v1/profiles",
    route_handlers=[list_profiles, create_profile, update_profile, delete_profile],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["profiles"],
)
