"""What the pages' routes are given: the surface, the signed-in device, its profile choice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State

from screengate.domain.profiles import Profile
from screengate.ports import Ports
from screengate.services import profiles
from screengate.web.profile_choice import ProfileChoice, unseal
from screengate.web.session import Refresher, Viewer, current_viewer
from screengate.web.surfaces import Surface


@dataclass(frozen=True, slots=True)
class WebKeys:
    """The secret that signs the profile-choice cookies and CSRF tokens, the same for every
    worker and instance (set by the operator, or kept in the database: wiring.web_secret)."""

    secret: bytes


def web_keys_of(state: State) -> WebKeys:
    """The keys the app resolved when it started."""
    keys: WebKeys = state.web_keys
    return keys


def current_choice(
    request: Request[Any, Any, Any], viewer: Viewer, surface: Surface, keys: WebKeys
) -> ProfileChoice | None:
    value = request.cookies.get(surface.profile_cookie)
    return unseal(keys.secret, viewer.principal.session_id, value)


async def chosen_profile(
    ports: Ports, viewer: Viewer, choice: ProfileChoice | None
) -> Profile | None:
    """The profile picked on this device, if it still exists."""
    if choice is None:
        return None
    household = await profiles.list_profiles(ports, viewer.principal)
    return next((p for p in household if p.id == choice.profile_id), None)


class GrownUpNeeded(Exception):
    """A page for grown-ups (Account, devices, profiles) asked for on a Kids profile, or before
    anyone chose who's watching on this browser."""

    def __init__(self, profile: Profile | None) -> None:
        super().__init__("a grown-up profile is needed")
        self.profile = profile


async def grown_up_viewer(
    request: Request[Any, Any, Any],
    ports: Ports,
    surface: Surface,
    keys: WebKeys,
    refresher: Refresher,
) -> Viewer:
    """current_viewer() for the pages only a grown-up may open: the profile chosen on this
    browser must be a grown-up one (a locked one was chosen with its PIN)."""
    viewer = await current_viewer(request, ports, surface, refresher)
    profile = await chosen_profile(ports, viewer, current_choice(request, viewer, surface, keys))
    if profile is None or profile.kids:
        raise GrownUpNeeded(profile)
    return viewer
