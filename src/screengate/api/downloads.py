"""/v1/downloads: this device's downloads, within the plan's limits; /v1/titles: the catalogue."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, delete, get, post
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import DownloadOut, NewDownload, TitleOut
from screengate.domain.catalogue import KIDS_MAX
from screengate.domain.downloads import Download
from screengate.domain.ids import DownloadId, ProfileId
from screengate.ports import Ports
from screengate.services import downloads

DownloadPath = Annotated[str, Parameter(max_length=64)]


def _out(download: Download) -> DownloadOut:
    return DownloadOut(
        download_id=download.id,
        profile_id=download.profile_id,
        title_id=download.title_id,
        created_at=download.created_at,
        expires_at=download.expires_at,
    )


@post("/", status_code=201, responses=problems(*AUTHED, 403, 404, 409, 429))
async def start(data: JSONBody[NewDownload], ports: Ports, device: Device) -> DownloadOut:
    download = await downloads.start_download(
        ports, device, profile_id=ProfileId(data.profile_id), title_id=data.title_id, pin=data.pin
    )
    return _out(download)


@get("/", responses=problems(*AUTHED))
async def mine(ports: Ports, device: Device) -> list[DownloadOut]:
    return [_out(d) for d in await downloads.list_downloads(ports, device)]


@delete("/{download_id:str}", status_code=204, responses=problems(*AUTHED, 404))
async def remove(download_id: DownloadPath, ports: Ports, device: Device) -> None:
    await downloads.delete_download(ports, device, DownloadId(download_id))


router = Router(
    "/v1/downloads",
    route_handlers=[start, mine, remove],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["downloads"],
)


@get("/v1/titles", tags=["titles"], security=[])
async def titles(ports: Ports) -> list[TitleOut]:
    return [
        TitleOut(t.id, t.name, int(t.maturity), t.year, t.genre, t.minutes, t.maturity <= KIDS_MAX)
        for t in ports.catalogue
    ]
