"""Browse, Play (a real stream in one of the plan's screens), the player, and stopping streams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from screengate.domain.catalogue import KIDS_MAX, Title
from screengate.domain.errors import (
    ProfileLocked,
    StreamEnded,
    StreamNotFound,
    TooManyPinAttempts,
    TooManyStreams,
)
from screengate.domain.ids import StreamId
from screengate.ports import Ports
from screengate.services import streams
from screengate.web.deps import WebKeys, chosen_profile, current_choice
from screengate.web.errors import go_to, wants_json
from screengate.web.forms import form_of
from screengate.web.render import page
from screengate.web.session import Viewer
from screengate.web.surfaces import Surface

StreamPath = Annotated[str, Parameter(max_length=64)]
TitlePath = Annotated[str, Parameter(max_length=80)]
Ready = Annotated[str | None, QueryParameter(name="ready", required=False, max_length=80)]

# The browse page's rows: a name, and the genres it gathers (None: the newest of everything).
SHELVES: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("New on screengate", None),
    ("Thrillers and crime", frozenset({"Thriller", "Crime", "Horror", "Action"})),
    ("For the whole family", frozenset({"Animation", "Family", "Reality", "Documentary"})),
    ("Drama, sport and science fiction", frozenset({"Drama", "Sport", "Science fiction"})),
)
NEWEST = 6


@dataclass(frozen=True, slots=True)
class Shelf:
    name: str
    titles: list[Title]


@dataclass(frozen=True, slots=True)
class Holder:
    """One taken screen on the too-many-streams page."""

    stream_id: str
    device_name: str
    device_type: str | None
    profile_name: str | None
    title_id: str
    started_at: datetime
    this_device: bool


@get("/browse")
async def browse(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    keys: WebKeys,
    ready: Ready = None,
) -> Response[Any]:
    profile = await chosen_profile(ports, viewer, current_choice(request, viewer, surface, keys))
    if profile is None:
        return Redirect(surface.url("/profiles"))
    titles = [t for t in ports.catalogue if not profile.kids or t.maturity <= KIDS_MAX]
    ready_title = next((t for t in titles if t.id == ready), None)
    return page(
        request,
        surface.template("browse.html"),
        profile=profile,
        shelves=shelves(titles),
        ready=ready_title,
    )


def shelves(titles: list[Title]) -> list[Shelf]:
    rows = []
    for name, genres in SHELVES:
        if genres is None:
            picked = sorted(titles, key=lambda t: t.year, reverse=True)[:NEWEST]
        else:
            picked = [t for t in titles if t.genre in genres]
        if picked:
            rows.append(Shelf(name, picked))
    return rows


@post("/play/{title_id:str}")
async def play(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    keys: WebKeys,
    title_id: TitlePath,
) -> Response[Any]:
    """Press Play: a stream in one of the plan's screens, or who holds them all."""
    choice = current_choice(request, viewer, surface, keys)
    profile = await chosen_profile(ports, viewer, choice)
    if profile is None or choice is None:
        return go_to(request, surface.url("/profiles"))
    try:
        stream = await streams.start_stream(
            ports, viewer.principal, profile_id=profile.id, title_id=title_id, pin=choice.pin
        )
    except (ProfileLocked, TooManyPinAttempts):
        # Locked since it was picked, or its PIN changed: ask again. Or too many wrong PINs
        # (here or on another device): the PIN page says how long to wait.
        return go_to(request, surface.url(f"/profiles/{profile.id}/pin"))
    except TooManyStreams as error:
        return page(
            request,
            surface.template("too_many.html"),
            status=409,
            limit=error.extra["limit"],
            detail=error.detail,
            title_id=title_id,
            holders=_holders(error.extra["active"], viewer),
        )
    return go_to(request, surface.url(f"/watch/{stream.id}"))


@get("/watch/{stream_id:str}")
async def watch(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    stream_id: StreamPath,
) -> Response[Any]:
    """The player: heartbeats keep the screen; leaving the page gives it back."""
    holders = await streams.active_streams(ports, viewer.principal)
    mine = next(
        (
            h
            for h in holders
            if h.stream_id == stream_id and h.device_id == viewer.principal.device_id
        ),
        None,
    )
    interval = int(ports.streaming.heartbeat_interval.total_seconds())
    return page(
        request,
        surface.template("watch.html"),
        stream=mine,
        stream_id=stream_id,
        heartbeat_seconds=interval,
    )


@post("/watch/{stream_id:str}/heartbeat", status_code=200)
async def heartbeat(ports: Ports, viewer: Viewer, stream_id: StreamPath) -> Response[Any]:
    try:
        expires_at = await streams.heartbeat(ports, viewer.principal, StreamId(stream_id))
    except StreamEnded as ended:
        body = {"code": ended.code, "reason": ended.reason, "detail": ended.detail}
        return Response(body, status_code=410)
    except StreamNotFound as missing:
        return Response({"code": missing.code, "detail": missing.detail}, status_code=404)
    return Response({"expires_at": expires_at.isoformat()})


@post("/streams/{stream_id:str}/stop")
async def stop(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    stream_id: StreamPath,
) -> Response[Any]:
    """Stop a stream: this device's, or another's from the too-many-streams page."""
    form = await form_of(request)
    await streams.stop_stream(ports, viewer.principal, StreamId(stream_id))
    if wants_json(request):
        return Response(b"", status_code=204)
    then = form.get("then")
    if request.headers.get("hx-request") == "true":
        return page(request, "_stopped.html", title_id=then)
    query = f"?{urlencode({'ready': then})}" if then else ""
    return go_to(request, surface.url(f"/browse{query}"))


def _holders(active: list[dict[str, Any]], viewer: Viewer) -> list[Holder]:
    return [
        Holder(
            stream_id=str(item["stream_id"]),
            device_name=str(item.get("device_name") or "Unknown device"),
            device_type=item.get("device_type"),
            profile_name=item.get("profile_name"),
            title_id=str(item["title_id"]),
            started_at=datetime.fromisoformat(str(item["started_at"]).replace("Z", "+00:00")),
            this_device=item.get("device_id") == viewer.principal.device_id,
        )
        for item in active
    ]
