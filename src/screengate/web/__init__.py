"""Pages for people (Jinja2, a little htmx and JS), on the same services as the JSON API.

The website and the TV app are each a device: a cookie session per surface, CSRF on every
form, and an event stream that sends an open page to its sign-in screen when signed out.
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from screengate.web import (
    account,
    activate,
    email,
    entry,
    events,
    passkeys,
    profiles,
    recovery,
    tv,
    tv_code,
    two_step,
    watching,
)
from screengate.web.cookies import PendingCookies
from screengate.web.csrf import PageCSRF
from screengate.web.deps import grown_up_viewer, web_keys_of
from screengate.web.errors import handlers_for, not_found_anywhere
from screengate.web.render import STATIC, template_config
from screengate.web.session import Refresher, current_viewer
from screengate.web.surfaces import TV, WEB, Surface

__all__ = ["not_found_anywhere", "routers", "template_config"]

# Pages both surfaces have; each renders its own templates and keeps its own cookies.
SHARED: list[ControllerRouterHandler] = [
    entry.front_door,
    entry.sign_in,
    entry.sign_in_second_step,
    entry.sign_out_here,
    profiles.whos_watching,
    profiles.pin_page,
    profiles.watch_as,
    watching.browse,
    watching.play,
    watching.watch,
    watching.heartbeat,
    watching.stop,
    events.events,
]

WEBSITE_ONLY: list[ControllerRouterHandler] = [
    entry.sign_up_page,
    entry.sign_up,
    passkeys.sign_in_options,
    passkeys.sign_in_with_passkey,
    entry.sign_in_page,
    entry.sign_up_page,
    entry.sign_up,
    recovery.forgot_password_page,
    recovery.forgot_password,
    recovery.reset_password_page,
    recovery.reset_password,
    recovery.secure_account_page,
    recovery.secure_account,
    email.confirm_email_page,
    email.confirm_email,
    activate.activate_page,
    activate.look_up_code,
    activate.decide_code,
]

# Account, Manage access and devices, and the profiles' settings: a grown-up profile only
# (their `viewer` is grown_up_viewer), never a Kids profile or nobody chosen yet.
GROWN_UPS: list[ControllerRouterHandler] = [
    profiles.manage,
    profiles.new_profile_page,
    profiles.add_profile,
    profiles.edit_profile_page,
    profiles.edit_profile,
    profiles.delete_profile,
    account.account,
    account.devices,
    account.sign_out_device,
    account.sign_out_all_page,
    account.sign_out_all,
    account.password_page,
    account.change_password,
    email.email_page,
    email.change_email,
    account.activity,
    two_step.security,
    two_step.start_totp,
    two_step.confirm_totp,
    two_step.turn_off,
    two_step.new_recovery_codes,
    two_step.confirm_identity_page,
    two_step.confirm_identity,
    passkeys.registration_options,
    passkeys.add_passkey,
    passkeys.remove_passkey,
    passkeys.confirm_with_passkey,
    account.end_temporary_sign_in,
    account.move_signed_in_until,
]

TV_ONLY: list[ControllerRouterHandler] = [
    tv.get_help,
    tv.confirm_sign_out,
    tv_code.tv_sign_in_page,
    tv_code.code_events,
    tv_code.finish_code_sign_in,
]


def routers() -> list[Router]:
    """The website at /, the TV app at /tv, and their assets at /static."""
    refresher = Refresher()

    def surface_router(
        path: str, surface: Surface, handlers: list[ControllerRouterHandler]
    ) -> Router:
        return Router(
            path,
            route_handlers=handlers,
            dependencies={
                "surface": Provide(lambda: surface, sync_to_thread=False),
                "keys": Provide(web_keys_of, sync_to_thread=False),
                "refresher": Provide(lambda: refresher, sync_to_thread=False),
                "viewer": Provide(current_viewer),
            },
            # Only these routers carry the CSRF check: the JSON API (bearer tokens) never sees it.
            middleware=[DefineMiddleware(PageCSRF, surface=surface), PendingCookies],
            exception_handlers=handlers_for(surface),
            include_in_schema=False,
        )

    grown_ups = Router(
        "/",
        route_handlers=GROWN_UPS,
        dependencies={"viewer": Provide(grown_up_viewer)},
        include_in_schema=False,
    )
    return [
        surface_router("/", WEB, [*SHARED, *WEBSITE_ONLY, grown_ups]),
        surface_router("/tv", TV, [*SHARED, *TV_ONLY]),
        create_static_files_router(
            "/static",
            directories=[STATIC],
            name="static",
            guards=[no_nul_in_path],
            include_in_schema=False,
        ),
    ]


def no_nul_in_path(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """No file's name holds a NUL: such a path is not found (the file system would raise
    ValueError on it, a 500)."""
    if "\x00" in connection.scope["path"]:
        raise NotFoundException()
