"""`screengate device ...`: act as a TV, phone or console from the command line, on the client
library, printing what the device is told in plain words.

The device's tokens live in a state file (mode 0600); every command but sign-in reads it.
"""

from __future__ import annotations

import asyncio
import io
import re
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar, cast, get_args

import httpx
import segno
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from screengate.client import (
    CodeSignInError,
    DeviceSession,
    DeviceType,
    DownloadsRevokedEvent,
    Event,
    Playback,
    Profile,
    ScreengateClient,
    ScreengateError,
    SignedOutError,
    SignedOutEvent,
    StreamEndedEvent,
    StreamReplacedEvent,
    TooManyStreamsError,
    UnknownEvent,
)
from screengate.client.state import DeviceState, DeviceStateFile

T = TypeVar("T")

device_app = typer.Typer(
    help="Act as a TV, phone or console: sign in, listen, play, sign out.", no_args_is_help=True
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

DEVICE_TYPES = get_args(DeviceType)
DEVICES_FOLDER = Path("var/devices")

StateOption = Annotated[
    Path,
    typer.Option(
        "--state", help="The device's state file, as `device sign-in` saved it.", dir_okay=False
    ),
]

# Why a stream ended, in words that finish "Playback stopped: ...".
STREAM_ENDED = {
    "stopped": "stopped on this device",
    "stopped_by_owner": "stopped from another device",
    "replaced": "this device started playing something else",
    "expired": "this device stopped checking in",
    "signed_out_here": "signed out on this device",
    "signed_out_remotely": "signed out from another device",
    "signed_out_everywhere": "signed out of all devices",
    "password_changed": "the account password was changed",
    "token_reuse": "this device's credentials were used twice",
    "operator": "signed out by customer support",
    "temporary_access_ended": "the time this device was signed in for ended",
}


@device_app.command("sign-in")
def sign_in(
    email: Annotated[str | None, typer.Option(help="The account's email.")] = None,
    password: Annotated[
        str | None, typer.Option(hide_input=True, help="Asked for when not given.")
    ] = None,
    code: Annotated[
        bool,
        typer.Option(
            "--code",
            help="Show a code and a QR code to approve on a phone (RFC 8628) instead of "
            "typing an email and a password, and wait for the approval.",
        ),
    ] = False,
    device_type: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(DEVICE_TYPES)}.")
    ] = "smart_tv",
    name: Annotated[str | None, typer.Option(help='e.g. "Living Room TV".')] = None,
    url: Annotated[str, typer.Option(help="The screengate server.")] = "http://127.0.0.1:8000",
    state: Annotated[
        Path | None,
        typer.Option(help="Where to keep the tokens (default: var/devices/<name>.json)."),
    ] = None,
) -> None:
    """Sign in as a device and keep its tokens in a state file (mode 0600)."""
    if device_type not in DEVICE_TYPES:
        raise typer.BadParameter(f"one of {', '.join(DEVICE_TYPES)}", param_hint="--type")
    kind = cast("DeviceType", device_type)
    file = DeviceStateFile(state or DEVICES_FOLDER / f"{_slug(name or device_type)}.json")
    if code:
        device = _run(url, lambda client: _with_code(client, kind, name))
        file.save(DeviceState(url, email or "", device_type, name, device.device_id, device.tokens))
    else:
        if email is None:
            raise typer.BadParameter(
                "give the account's email, or use --code", param_hint="--email"
            )
        secret = password if password is not None else typer.prompt("Password", hide_input=True)
        known, known_secret = _previous_device(file, email)

        async def work(client: ScreengateClient) -> DeviceSession:
            return await client.sign_in(
                email, secret, kind, name, known, device_secret=known_secret
            )

        device = _run(url, work)
        file.save(
            DeviceState(
                url, email, device_type, name, device.device_id, device.tokens, device.device_secret
            )
        )
    label = escape(name or device_type)
    out.print(f"Signed in as {label} ({device_type}), device {device.device_id}.")
    out.print(f"Tokens saved in {escape(str(file.path))} (keep it private).", soft_wrap=True)


CLIENT_ID = "screengate-emulator"


async def _with_code(client: ScreengateClient, kind: DeviceType, name: str | None) -> DeviceSession:
    """Show the code and its QR code in the terminal, then poll until it is decided."""
    offer = await client.request_code(CLIENT_ID, kind, name)
    out.print(f"On your phone or computer, go to [bold]{escape(offer.verification_uri)}[/]")
    out.print(f"and enter the code [bold]{escape(offer.user_code)}[/], or scan this QR code:")
    qr = io.StringIO()
    segno.make(offer.verification_uri_complete, error="m").terminal(out=qr, compact=True)
    out.print(qr.getvalue(), markup=False, highlight=False)
    minutes = max(1, offer.expires_in // 60)
    out.print(f"Waiting for the approval (the code works for {minutes} minutes)...")
    try:
        return await client.sign_in_with_code(CLIENT_ID, offer)
    except CodeSignInError as error:
        _fail(_CODE_ENDED.get(error.code, error.detail))


_CODE_ENDED = {
    "access_denied": "The sign-in was denied.",
    "expired_token": "The code expired before anyone approved it. Run the command again.",
}


@device_app.command()
def listen(state: StateOption) -> None:
    """Hold the event stream and print what this device is told; exit 0 once signed out."""
    file, saved = _load(state)
    out.print(f"Listening as {_label(saved)}; Ctrl-C to stop.")
    connections = 0

    def connected() -> None:
        nonlocal connections
        connections += 1
        out.print("Connected." if connections == 1 else "Reconnected.")

    async def work(device: DeviceSession) -> SignedOutEvent | None:
        async for event in device.events(on_connect=connected):
            _say(event)
            if isinstance(event, SignedOutEvent):
                return event
        return None

    if _device_run(file, saved, work) is not None:
        file.forget_tokens()


@device_app.command()
def play(
    state: StateOption,
    title: Annotated[str, typer.Option(help="The title's id, e.g. night-harbour.")],
    profile: Annotated[
        str | None, typer.Option(help="Who's watching: a profile's name (default: the first).")
    ] = None,
    pin: Annotated[str | None, typer.Option(help="The profile's PIN, if it is locked.")] = None,
) -> None:
    """Play a title with heartbeats until Ctrl-C or the stream ends, and say why it ended."""
    file, saved = _load(state)

    async def work(device: DeviceSession) -> None:
        chosen = _choose(await device.profiles(), profile)
        playback = await device.play(chosen.profile_id, title, pin)
        out.print(
            f"Playing {escape(title)} for {escape(chosen.name)} on {_label(saved)}; "
            f"heartbeat every {playback.heartbeat_interval:g} s. Ctrl-C to stop."
        )
        await _until_ended(playback)

    _device_run(file, saved, work)


@device_app.command("sign-out")
def sign_out(
    state: StateOption,
    device_id: Annotated[
        str | None, typer.Option("--device", help="Sign out another device (its id) instead.")
    ] = None,
    everywhere: Annotated[
        bool, typer.Option("--all", help="Sign out of all devices, this one too.")
    ] = False,
) -> None:
    """Sign out on this device (or another one, or all of them)."""
    if device_id and everywhere:
        raise typer.BadParameter("give --device or --all, not both", param_hint="--device/--all")
    file, saved = _load(state)

    async def work(device: DeviceSession) -> None:
        if everywhere:
            for entry in await device.sign_out_everywhere():
                told = "told live" if entry.notified else "told at its next request"
                out.print(f"Signed out {escape(entry.name)} ({told}).")
        elif device_id:
            await device.sign_out_device(device_id)
            out.print(f"Signed out device {escape(device_id)}.")
        else:
            await device.sign_out()
            out.print(f"Signed out {_label(saved)}.")

    _device_run(file, saved, work)
    if everywhere or not device_id or device_id == saved.device_id:
        file.forget_tokens()


@device_app.command()
def devices(state: StateOption) -> None:
    """Manage access and devices: every signed-in device, this one marked."""
    file, saved = _load(state)
    listed = _device_run(file, saved, lambda device: device.devices())
    now = datetime.now(UTC)
    table = Table(title=f"Devices signed in to {escape(saved.email)}", title_justify="left")
    for column in ("Name", "Type", "Signed in", "Last seen", "Location", "Now", "Device id"):
        table.add_column(column, no_wrap=column == "Device id")
    for row in listed:
        table.add_row(
            escape(row.name) + (" (this device)" if row.current else ""),
            row.type,
            _ago(row.signed_in_at, now),
            _ago(row.last_seen_at, now),
            escape(row.location or "unknown"),
            "streaming" if row.streaming else "",
            row.device_id,
        )
    (out if out.is_terminal else Console(highlight=False, width=200)).print(table)


# What a device is told, in words.


def _say(event: Event) -> None:
    if isinstance(event, SignedOutEvent):
        out.print(f"Signed out: {escape(event.detail)}")
    elif isinstance(event, StreamEndedEvent):
        out.print(f"Playback stopped: {_stream_ended(event.reason)}")
    elif isinstance(event, DownloadsRevokedEvent):
        count = len(event.download_ids)
        why = f" ({_stream_ended(event.reason)})" if event.reason else ""
        out.print(f"Downloads removed: {count} download{'s' if count != 1 else ''}{why}")
    elif isinstance(event, StreamReplacedEvent):
        out.print(f"Stopped listening: {escape(event.detail)}")
    elif isinstance(event, UnknownEvent):
        out.print(f"Event {escape(event.event)}: {escape(event.data)}")


def _stream_ended(reason: str) -> str:
    return STREAM_ENDED.get(reason, reason.replace("_", " "))


async def _until_ended(playback: Playback) -> None:
    """Ctrl-C stops the stream on the server before the command ends."""
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupted.set)
    ended = asyncio.create_task(playback.wait())
    stop = asyncio.create_task(interrupted.wait())
    await asyncio.wait({ended, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if not playback.ended:
        await playback.stop()
        out.print("Stopped playback.")
        return
    out.print(f"Playback stopped: {_stream_ended(await ended)}")


def _choose(profiles: list[Profile], name: str | None) -> Profile:
    if name is None:
        return profiles[0]
    for profile in profiles:
        if profile.name.casefold() == name.casefold():
            return profile
    names = ", ".join(p.name for p in profiles)
    raise typer.BadParameter(
        f"no profile named {name!r}; profiles: {names}", param_hint="--profile"
    )


# Running a command: the state file, the client, errors in one line.


def _load(path: Path) -> tuple[DeviceStateFile, DeviceState]:
    file = DeviceStateFile(path)
    try:
        saved = file.load()
    except FileNotFoundError:
        _fail(f"No device state at {path}: run `screengate device sign-in` first.")
    except ValueError as error:
        _fail(str(error))
    if saved.tokens is None:
        _fail(f"{_label(saved, markup=False)} is signed out: run `screengate device sign-in`.")
    return file, saved


def _previous_device(file: DeviceStateFile, email: str) -> tuple[str | None, str | None]:
    """Signing in again as the same device (its id and secret) keeps its entry in the device
    list, and its wrong passwords are counted apart from strangers'."""
    try:
        saved = file.load()
    except (FileNotFoundError, ValueError):
        return None, None
    if saved.email.casefold() != email.casefold():
        return None, None
    return saved.device_id, saved.device_secret


def _device_run(
    file: DeviceStateFile, saved: DeviceState, work: Callable[[DeviceSession], Awaitable[T]]
) -> T:
    """Run `work` as the saved device; a device found signed out forgets its tokens."""
    tokens = saved.tokens
    assert tokens is not None

    async def as_device(client: ScreengateClient) -> T:
        return await work(client.resume(tokens, store=file))

    try:
        return _run(saved.url, as_device)
    except SignedOutError as error:
        file.forget_tokens()
        out.print(f"Signed out: {escape(error.detail)}")
        raise typer.Exit(1) from None


def _run(url: str, work: Callable[[ScreengateClient], Awaitable[T]]) -> T:
    async def inside() -> T:
        async with ScreengateClient(url) as client:
            return await work(client)

    try:
        return asyncio.run(inside())
    except KeyboardInterrupt:
        out.print("Stopped.")
        raise typer.Exit(130) from None
    except SignedOutError:
        raise
    except TooManyStreamsError as error:
        _fail(_too_many_streams(error))
    except ScreengateError as error:
        _fail(error.detail)
    except httpx.TransportError as error:
        _fail(f"Cannot reach {url}: {type(error).__name__} {error}".strip())


def _too_many_streams(error: TooManyStreamsError) -> str:
    lines = [error.detail]
    for held in error.active:
        who = held.get("profile_name") or "someone"
        device = held.get("device_name") or "a device"
        lines.append(f"  {device}: {who} is watching {held.get('title_id')}")
    return "\n".join(lines)


def _label(saved: DeviceState, *, markup: bool = True) -> str:
    label = f"{saved.name or saved.type} ({saved.type})"
    return escape(label) if markup else label


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "device"


def _ago(at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] [red]{escape(message)}[/]", soft_wrap=True)
    raise typer.Exit(1)
