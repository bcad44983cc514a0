"""The two clients this package serves, each a device of its own: the website and the TV app."""

from __future__ import annotations

from dataclasses import dataclass

from screengate.domain.devices import DeviceType


@dataclass(frozen=True, slots=True)
class Surface:
    """Where a client lives: its device type, its cookies and its screens."""

    device_type: DeviceType
    # The TV's cookies stay under /tv, so a browser can be signed in as both at once.
    cookie_path: str
    cookie_prefix: str
    home_url: str
    sign_in_url: str
    events_url: str
    # Its pages' templates: the TV's are its own, drawn for a screen across the room.
    templates: str

    @property
    def access_cookie(self) -> str:
        return f"{self.cookie_prefix}access"

    @property
    def refresh_cookie(self) -> str:
        return f"{self.cookie_prefix}refresh"

    @property
    def profile_cookie(self) -> str:
        return f"{self.cookie_prefix}profile"

    @property
    def csrf_cookie(self) -> str:
        # The random key a signed-out browser's forms are bound to (web/csrf.py).
        return f"{self.cookie_prefix}csrf"

    @property
    def device_cookie(self) -> str:
        # The device id and its secret, sent back at sign-in to stay one entry in the list and
        # be judged as the account's own device: no session, but keep it HttpOnly all the same.
        return f"{self.cookie_prefix}device"

    def url(self, path: str) -> str:
        """A page of this surface: "/browse" on the website is "/tv/browse" on the TV."""
        return self.home_url.rstrip("/") + path

    def template(self, name: str) -> str:
        return f"{self.templates}{name}"


WEB = Surface(
    device_type=DeviceType.WEB_BROWSER,
    cookie_path="/",
    cookie_prefix="sg_",
    home_url="/",
    sign_in_url="/sign-in",
    events_url="/web/events",
    templates="",
)

TV = Surface(
    device_type=DeviceType.SMART_TV,
    cookie_path="/tv",
    cookie_prefix="sg_tv_",
    home_url="/tv",
    sign_in_url="/tv/sign-in",
    events_url="/tv/events",
    templates="tv/",
)
