"""The TV app's own screens: Get Help, and "Are you sure you want to sign out?"."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from screengate.ports import Ports
from screengate.web.deps import WebKeys, chosen_profile, current_choice
from screengate.web.render import page
from screengate.web.session import Viewer
from screengate.web.surfaces import TV


@get("/help")
async def get_help(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, keys: WebKeys
) -> Response[Any]:
    """The left menu's Get Help: where a TV keeps its Sign Out."""
    profile = await chosen_profile(ports, viewer, current_choice(request, viewer, TV, keys))
    return page(request, "tv/help.html", profile=profile)


@get("/sign-out")
async def confirm_sign_out(request: Request[Any, Any, Any], viewer: Viewer) -> Response[Any]:
    return page(request, "tv/sign_out.html")
