"""Who's watching?: pick a profile (with its PIN when locked), add, edit, lock, delete."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter

from screengate.api.problems import retry_after, status_of
from screengate.domain.errors import (
    InvalidProfile,
    LastProfile,
    ProfileLimit,
    ProfileLocked,
    ProfileNameTaken,
    ProfileNotFound,
    TooManyAttempts,
    TooManyPinAttempts,
    WrongPassword,
)
from screengate.domain.ids import ProfileId
from screengate.domain.profiles import MAX_PROFILES, Profile, check_pin
from screengate.ports import Ports
from screengate.services import profiles
from screengate.services.profiles import ProfileChanges, check_pin_pause
from screengate.web.cookies import cookie
from screengate.web.deps import WebKeys
from screengate.web.errors import go_to
from screengate.web.forms import FormErrors, form_of
from screengate.web.profile_choice import ProfileChoice, seal
from screengate.web.render import page
from screengate.web.session import Viewer
from screengate.web.surfaces import Surface

ProfilePath = Annotated[str, Parameter(max_length=64)]
# What the profile form says beside its fields; anything else (a device signed out meanwhile)
# goes to the surface's one error mapping.
FORM_ERRORS = (InvalidProfile, ProfileLimit, ProfileNameTaken, LastProfile)


@get("/profiles")
async def whos_watching(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, surface: Surface
) -> Response[Any]:
    household = await profiles.list_profiles(ports, viewer.principal)
    return page(
        request,
        surface.template("profiles.html"),
        profiles=household,
        can_add=len(household) < MAX_PROFILES,
        manage=False,
    )


@get("/profiles/{profile_id:str}/pin")
async def pin_page(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    profile_id: ProfilePath,
) -> Response[Any]:
    profile = await _profile(ports, viewer, profile_id)
    errors = FormErrors()
    try:
        await check_pin_pause(ports, viewer.principal, profile)
    except TooManyPinAttempts as paused:
        errors = FormErrors(paused.detail)  # said before anyone types: the PIN would be refused
    return page(request, surface.template("pin.html"), profile=profile, errors=errors)


@post("/profiles/{profile_id:str}/watch")
async def watch_as(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    keys: WebKeys,
    profile_id: ProfilePath,
) -> Response[Any]:
    """Pick a profile. A locked one needs its PIN, which this device then keeps for Play."""
    profile = await _profile(ports, viewer, profile_id)
    pin = (await form_of(request)).get("pin", "").strip() or None
    try:
        await profiles.choose_profile(ports, viewer.principal, profile.id, pin)
    except ProfileLocked:
        message = "Enter the profile's 4-digit PIN." if not pin else "That PIN is not right."
        return _pin_refused(request, surface, profile, message, 403)
    except TooManyPinAttempts as paused:
        refused = _pin_refused(request, surface, profile, paused.detail, 429)
        refused.headers.update(retry_after(paused))
        return refused
    choice = ProfileChoice(profile.id, pin if profile.locked else None)
    value = seal(keys.secret, viewer.principal.session_id, choice)
    # No max-age: the choice, and the PIN with it, ends when the browser closes.
    chosen = cookie(request, surface, surface.profile_cookie, value, None)
    return go_to(request, surface.url("/browse"), [chosen])


def _pin_refused(
    request: Request[Any, Any, Any], surface: Surface, profile: Profile, message: str, status: int
) -> Response[Any]:
    return page(
        request,
        surface.template("pin.html"),
        status=status,
        profile=profile,
        errors=FormErrors(message, {"pin": message}),
    )


@get("/profiles/manage")
async def manage(request: Request[Any, Any, Any], ports: Ports, viewer: Viewer) -> Response[Any]:
    household = await profiles.list_profiles(ports, viewer.principal)
    return page(
        request,
        "profiles.html",
        profiles=household,
        can_add=len(household) < MAX_PROFILES,
        manage=True,
    )


@get("/profiles/new")
async def new_profile_page(request: Request[Any, Any, Any], viewer: Viewer) -> Response[Any]:
    return page(request, "profile_form.html", profile=None, form={}, errors=FormErrors())


@post("/profiles/new")
async def add_profile(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer
) -> Response[Any]:
    form = await form_of(request)
    try:
        pin = _new_pin(form)
        await profiles.create_profile(
            ports, viewer.principal, name=form.get("name", ""), kids="kids" in form, pin=pin
        )
    except FORM_ERRORS as error:
        return page(
            request,
            "profile_form.html",
            status=status_of(error),
            profile=None,
            form=form,
            errors=FormErrors.of(error, default_field="name"),
        )
    return go_to(request, "/profiles/manage")


@get("/profiles/{profile_id:str}/edit")
async def edit_profile_page(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, profile_id: ProfilePath
) -> Response[Any]:
    profile = await _profile(ports, viewer, profile_id)
    form = {"name": profile.name, **({"kids": "on"} if profile.kids else {})}
    return page(request, "profile_form.html", profile=profile, form=form, errors=FormErrors())


@post("/profiles/{profile_id:str}/edit")
async def edit_profile(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    profile_id: ProfilePath,
    ip: str | None,
) -> Response[Any]:
    profile = await _profile(ports, viewer, profile_id)
    form = await form_of(request)
    # A PIN typed without ticking "Require a PIN" still means: lock it.
    lock = form.get("lock") or ("set" if form.get("pin", "").strip() else "keep")
    try:
        pin = _new_pin(form) if lock == "set" else None
        changes = ProfileChanges(
            name=form.get("name", ""),
            kids="kids" in form,
            pin=pin,
            remove_pin=lock == "remove",
            password=form.get("password") or None,
        )
        await profiles.update_profile(ports, viewer.principal, profile.id, changes, ip=ip)
    except (*FORM_ERRORS, WrongPassword, TooManyAttempts) as error:
        errors = FormErrors.of(error, default_field="name")
        if isinstance(error, WrongPassword | TooManyAttempts):
            said = (
                error.detail
                if isinstance(error, TooManyAttempts)
                else "Enter your account password to set, change or remove the PIN."
            )
            errors = FormErrors(said, {"password": said})
        # The password is never sent back into the page.
        refused = page(
            request,
            "profile_form.html",
            status=status_of(error),
            profile=profile,
            form={k: v for k, v in form.items() if k != "password"},
            errors=errors,
        )
        refused.headers.update(retry_after(error))
        return refused
    return go_to(request, "/profiles/manage")


@post("/profiles/{profile_id:str}/delete")
async def delete_profile(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, profile_id: ProfilePath
) -> Response[Any]:
    profile = await _profile(ports, viewer, profile_id)
    try:
        await profiles.delete_profile(ports, viewer.principal, profile.id)
    except FORM_ERRORS as error:
        form = {"name": profile.name, **({"kids": "on"} if profile.kids else {})}
        return page(
            request,
            "profile_form.html",
            status=status_of(error),
            profile=profile,
            form=form,
            errors=FormErrors(error.detail),
        )
    return go_to(request, "/profiles/manage")


async def _profile(ports: Ports, viewer: Viewer, profile_id: str) -> Profile:
    household = await profiles.list_profiles(ports, viewer.principal)
    for profile in household:
        if profile.id == profile_id:
            return profile
    raise ProfileNotFound(profile_id=ProfileId(profile_id))


def _new_pin(form: dict[str, str]) -> str | None:
    pin = form.get("pin", "").strip()
    if not pin:
        if form.get("lock") == "set":
            raise InvalidProfile("Enter 4 digits to lock the profile.", field="pin")
        return None
    check_pin(pin)
    return pin
