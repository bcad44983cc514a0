"""The operator's command line: serve, demo, db upgrade, accounts, devices, sessions; and
`device`, which acts as a TV, phone or console (screengate/emulator.py).

Each command reads Settings from SCREENGATE_* variables, opens the ports, calls one use case and
prints. Domain errors become one red line and exit status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shlex
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, NoReturn, TypeVar

import typer
from granian.constants import HTTPModes, Interfaces
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from screengate.config import Settings
from screengate.demo import DEMO_EMAIL, DEMO_PASSWORD, DemoAccount, pin_of, seed_demo
from screengate.domain.errors import DomainError
from screengate.domain.ids import DeviceId
from screengate.domain.profiles import Profile
from screengate.emulator import device_app
from screengate.mailbox import mail_app
from screengate.ports import Ports
from screengate.services import accounts as account_service
from screengate.services import sign_out, two_step
from screengate.services.devices import list_devices_for_operator
from screengate.services.sessions import prune_ended_sessions
from screengate.services.views import DeviceView
from screengate.wiring import open_ports

T = TypeVar("T")

app = typer.Typer(
    help="screengate: accounts, devices and every way to sign out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts, as support sees them.", no_args_is_help=True)
devices_app = typer.Typer(help="An account's signed-in devices.", no_args_is_help=True)
sessions_app = typer.Typer(help="Every account's sessions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(devices_app, name="devices")
app.add_typer(sessions_app, name="sessions")
app.add_typer(device_app, name="device")
app.add_typer(mail_app, name="mail")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Email = Annotated[str, typer.Argument(help="The account's email address.")]


def main() -> None:
    app()


# serve


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [SCREENGATE_HOST].")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [SCREENGATE_PORT].")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes [SCREENGATE_WORKERS].")
    ] = None,
    backlog: Annotated[
        int,
        typer.Option(
            min=128, envvar="SCREENGATE_BACKLOG", help="Connections waiting to be accepted."
        ),
    ] = 1024,
    backpressure: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="SCREENGATE_BACKPRESSURE",
            help="Connections each worker holds at once; every device listening for events "
            "holds one (default: what the file-descriptor limit allows).",
        ),
    ] = None,
    http: Annotated[
        HTTPModes,
        typer.Option(
            envvar="SCREENGATE_HTTP",
            help="1: HTTP/1.1 (browsers speak HTTP/2 only over TLS, which the proxy in front "
            "ends); auto: HTTP/2 with prior knowledge too, at ~11 KiB more per open connection.",
        ),
    ] = HTTPModes.http1,
) -> None:
    """Serve the HTTP API with Granian."""
    from granian import Granian

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    if workers > 1 and (settings.is_sqlite or settings.is_memory):
        # The embedded store and its in-process bus live in one process; a second one
        # would neither see the other's sign-outs nor share SQLite's write lock sensibly.
        _warn(f"An embedded database is served by one process: using 1 worker, not {workers}.")
        workers = 1
    if workers > 1 and not settings.redis_url:
        _warn(
            "Without SCREENGATE_REDIS_URL each worker counts failed sign-ins on its own, "
            f"so the throttle lets up to {workers} times as many guesses through."
        )
    url = _base_url(host, port)
    # The workers read their settings afresh: mailed links point here unless
    # SCREENGATE_PUBLIC_URL says otherwise.
    os.environ["SCREENGATE_HOST"], os.environ["SCREENGATE_PORT"] = host, str(port)
    backpressure = backpressure or connection_budget()
    out.print(f"[bold]screengate[/] on [cyan]{url}[/]  (API docs: {url}/docs)", soft_wrap=True)
    out.print(
        f"database: {escape(_display_database(settings))}, workers: {workers}, "
        f"connections per worker: {backpressure:,}",
        soft_wrap=True,
    )
    Granian(
        "screengate.app:from_env",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        backlog=backlog,
        backpressure=backpressure,
        http=http,
    ).serve()


# Descriptors kept back from the connection budget: database pool, Redis, logs, imports.
RESERVED_FILES = 256
MOST_CONNECTIONS = 65_536  # per worker, by default; --backpressure allows more


def connection_budget() -> int:
    """How many connections one worker may hold, after raising its file limit to the hard one.

    Granian's own default is backlog / workers (1,024): past that a worker accepts nothing,
    health checks included, and every device holding GET /v1/events keeps a connection.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    files = MOST_CONNECTIONS + RESERVED_FILES if soft == resource.RLIM_INFINITY else soft
    return max(1024, min(MOST_CONNECTIONS, files - RESERVED_FILES))


# db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to SCREENGATE_DATABASE_URL (a new SQLite file gets its folder)."""
    from screengate.adapters.sql.migrate import upgrade_sync

    settings = _settings()
    if settings.is_memory:
        out.print("memory:// keeps nothing between runs: there is no schema to migrate.")
        return
    _guarded(lambda: upgrade_sync(settings.database_url))
    database = escape(_display_database(settings))
    out.print(f"[green]Database is up to date:[/] {database}", soft_wrap=True)


# demo


@app.command()
def demo(
    email: Annotated[str, typer.Option(help="The demo account's email.")] = DEMO_EMAIL,
    password: Annotated[str, typer.Option(help="The demo account's password.")] = DEMO_PASSWORD,
) -> None:
    """Create the demo account (Premium, 3 profiles, 6 devices); safe to run again."""
    settings = _settings()
    seeded = _run(lambda ports: seed_demo(ports, email=email, password=password))
    _print_demo(seeded, _base_url(settings.host, settings.port))


def _print_demo(seeded: DemoAccount, url: str) -> None:
    if seeded.created:
        out.print("[green]Demo account created.[/]")
    else:
        again = ", ".join(seeded.signed_in_now)
        out.print("Demo account already there" + (f"; signed in again: {again}." if again else "."))
    table = Table.grid(padding=(0, 2))
    table.add_row("URL", f"{url}  (API docs: {url}/docs)")
    table.add_row("Email", seeded.email)
    table.add_row("Password", escape(seeded.password))
    table.add_row("Profiles", escape(", ".join(_profile_label(p) for p in seeded.profiles)))
    names = ", ".join(d.name for d in seeded.devices)
    table.add_row("Devices", escape(f"{len(seeded.devices)} signed in: {names}"))
    out.print(table)
    if not seeded.password_works:
        _warn(
            "That password no longer works: it was changed after the demo was seeded, so the "
            "demo left the account alone. To start over, delete the database "
            "(rm -rf var/ for the default SQLite file) and run `make run` again."
        )
        return
    body = json.dumps(
        {
            "email": seeded.email,
            "password": seeded.password,
            "device": {"type": "web_browser", "name": "curl"},
        },
        separators=(",", ":"),
    )
    out.print("Sign in as one more device:")
    out.print(
        escape(
            f"  curl -s {url}/v1/auth/sign-in -H 'content-type: application/json' "
            f"-d {shlex.quote(body)}"
        ),
        soft_wrap=True,
    )


def _profile_label(profile: Profile) -> str:
    notes = ["kids"] if profile.kids else []
    if profile.locked:
        pin = pin_of(profile)
        notes.append(f"PIN {pin}" if pin else "PIN-locked")
    return profile.name + (f" ({', '.join(notes)})" if notes else "")


# accounts


@accounts_app.command("create")
def accounts_create(
    email: Email,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for when not given (better: it stays out of the shell's history).",
        ),
    ],
    plan: Annotated[str, typer.Option(help="The membership plan.")] = "standard",
) -> None:
    """Create an account, as sign-up would."""
    account = _run(
        lambda ports: account_service.sign_up(ports, email=email, password=password, plan=plan)
    )
    out.print(
        f"Created account [bold]{account.id}[/] for {account.email} on the {account.plan} plan."
    )


@accounts_app.command("plan")
def accounts_plan(
    email: Email, plan: Annotated[str, typer.Argument(help="The new plan's name.")]
) -> None:
    """Move an account to another plan."""
    account = _run(lambda ports: account_service.change_plan(ports, email, plan))
    out.print(f"{account.email} is now on the {account.plan} plan.")


@accounts_app.command("unlock")
def accounts_unlock(email: Email) -> None:
    """Lift the lock that 100 failed sign-ins in a row put on an account."""
    account = _run(lambda ports: account_service.unlock_sign_in(ports, email))
    out.print(f"{account.email} can sign in again.")


@accounts_app.command("two-step")
def accounts_two_step(
    email: Email,
    off: Annotated[
        bool,
        typer.Option("--off", help="Turn two-step sign-in off (the only change support makes)."),
    ] = False,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why (the security log keeps it): e.g. 'lost phone and codes, ID checked'.",
        ),
    ] = "",
) -> None:
    """Turn an account's two-step sign-in off, for someone who lost both phone and codes."""
    if not off:
        raise typer.BadParameter("only --off is supported", param_hint="--off")
    if not reason.strip():
        raise typer.BadParameter("say why, for the security log", param_hint="--reason")
    account = _run(lambda ports: two_step.operator_turn_off(ports, email, reason.strip()))
    out.print(f"Two-step sign-in is off for {escape(account.email)}; logged with the reason.")


# devices


@devices_app.command("list")
def devices_list(email: Email) -> None:
    """The account's signed-in devices, most recently seen first."""

    async def work(ports: Ports) -> tuple[list[DeviceView], datetime]:
        return await list_devices_for_operator(ports, email), ports.clock.now()

    views, now = _run(work)
    if not views:
        out.print(f"No device is signed in to {escape(email)}.")
        return
    table = Table(title=f"Devices signed in to {escape(email)}", title_justify="left")
    for column in ("Name", "Type", "Signed in", "Last seen", "Location", "Last activity", "Now"):
        table.add_column(column)
    table.add_column("Device id", no_wrap=True)
    for view in views:
        table.add_row(
            escape(view.name),
            view.type.value,
            _ago(view.signed_in_at, now),
            _ago(view.last_seen_at, now),
            escape(view.location or "unknown"),
            escape(_activity(view, now)),
            _holding(view),
            view.device_id,
        )
    # Piped or captured, nothing limits the width: keep each device on one line.
    (out if out.is_terminal else Console(highlight=False, width=240)).print(table)


@devices_app.command("sign-out")
def devices_sign_out(
    email: Email,
    device_id: Annotated[
        str | None, typer.Argument(help="The device to sign out (from `devices list`).")
    ] = None,
    all_devices: Annotated[bool, typer.Option("--all", help="Sign out every device.")] = False,
) -> None:
    """Sign out one device, or all of them (reason `operator`, in the security log)."""
    if all_devices == (device_id is not None):
        raise typer.BadParameter(
            "give either a DEVICE_ID or --all, not both and not neither",
            param_hint="DEVICE_ID / --all",
        )
    target = DeviceId(device_id) if device_id is not None else None
    receipt = _run(lambda ports: sign_out.operator_sign_out(ports, email, target))
    if not receipt.devices:
        out.print(f"No device was signed in to {escape(email)}.")
        return
    count = len(receipt.devices)
    out.print(f"Signed out {count} device{'s' if count != 1 else ''} of {escape(email)}:")
    for device in receipt.devices:
        out.print(f"  {escape(device.name)}  [dim]{device.device_id}[/]")


# sessions


@sessions_app.command("prune")
def sessions_prune() -> None:
    """Delete sessions that ended (signed out, or lapsed unseen) more than
    SCREENGATE_KEEP_ENDED_SESSIONS_DAYS ago, and the devices left with none. The server does
    this on its own every SCREENGATE_HOUSEKEEPING_INTERVAL_SECONDS; this is for cron, or now."""
    pruned = _run(prune_ended_sessions)
    out.print(
        f"Pruned {_count(pruned.sessions, 'ended session')}, "
        f"{_count(pruned.devices, 'device')} left with none, "
        f"and {_count(pruned.credentials, 'expired credential')}."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


# shared


def _run(work: Callable[[Ports], Awaitable[T]]) -> T:
    """Run one command's async work inside freshly opened ports."""
    settings = _settings()

    async def inside_ports() -> T:
        async with open_ports(settings) as ports:
            return await work(ports)

    return _guarded(lambda: asyncio.run(inside_ports()))


def _guarded(action: Callable[[], T]) -> T:
    """What went wrong, in one line: a domain error, or a store that cannot be used."""
    try:
        return action()
    except DomainError as error:
        _fail(_describe(error))
    except SQLAlchemyError as error:
        first_line = str(getattr(error, "orig", None) or error).splitlines()[0]
        _fail(f"The database refused: {first_line}. Has `screengate db upgrade` run?")
    except (OSError, ValueError) as error:
        _fail(f"{type(error).__name__}: {error}")


def _describe(error: DomainError) -> str:
    message = error.detail
    for key in ("email", "device_id", "profile_id"):
        if key in error.extra:
            message += f" ({key.replace('_', ' ')}: {error.extra[key]})"
    if "plans" in error.extra:
        message += f" Plans: {', '.join(error.extra['plans'])}."
    return message


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"SCREENGATE_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        _fail(f"Invalid settings: {problems}")


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] [red]{escape(message)}[/]", soft_wrap=True)
    raise typer.Exit(1)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _display_database(settings: Settings) -> str:
    if settings.is_memory:
        return settings.database_url
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _ago(at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def _holding(view: DeviceView) -> str:
    """What signing the device out would end: its stream, its downloads."""
    held = ["streaming"] if view.streaming else []
    if view.downloads:
        held.append(f"{view.downloads} download{'s' if view.downloads != 1 else ''}")
    return ", ".join(held)


def _activity(view: DeviceView, now: datetime) -> str:
    activity = view.last_activity
    if activity is None:
        return "none yet"
    who = activity.profile_name or "a deleted profile"
    return f"{who} · {activity.title_id} · {_ago(activity.at, now)}"


if __name__ == "__main__":
    main()
