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
from screengate.web.session import Viewer
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
