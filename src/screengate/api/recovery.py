"""/v1/auth/password-reset and /v1/auth/secure-account: getting an account back by mail.

No bearer token: the mailed link's token is the proof."""

from __future__ import annotations

from litestar import MediaType, Response, Router, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody

from screengate.api.docs import problems
from screengate.api.schemas import (
    LinkToken,
    PasswordResetConfirm,
    PasswordResetRequest,
    SignedOutEverywhere,
)
from screengate.ports import Ports
from screengate.services import email_change, recovery


@post(
    "/password-reset",
    status_code=202,
    media_type=MediaType.TEXT,
    responses=problems(429),
    description="Mail a reset link if the email has an account. 202 whether or not it has "
    "one, in the same time: the lookup and the mail happen after the answer has gone.",
)
async def ask_for_reset(
    data: JSONBody[PasswordResetRequest], ports: Ports, ip: str | None
) -> Response[bytes]:
    email = await recovery.check_reset_request(ports, data.email, ip)
    return Response(
        content=b"",
        status_code=202,
        media_type=MediaType.TEXT,
        background=BackgroundTask(recovery.mail_reset_link, ports, email, ip),
    )


@post("/password-reset/confirm", status_code=204, responses=problems(400, 422))
async def confirm_reset(data: JSONBody[PasswordResetConfirm], ports: Ports, ip: str | None) -> None:
    await recovery.reset_password(ports, data.token, data.new_password, ip)


@post("/secure-account", status_code=200, responses=problems(400))
async def secure_account(
    data: JSONBody[LinkToken], ports: Ports, ip: str | None
) -> SignedOutEverywhere:
    """ "This wasn't me": every device signed out, the password refused until reset."""
    return SignedOutEverywhere.of(await recovery.secure_account(ports, data.token, ip))


@post(
    "/email/confirm",
    status_code=204,
    responses=problems(400, 409),
    description="Follow a link from the email-change mails: the new address's confirmation "
    "makes the change; the old address's undo link takes it back and secures the account.",
)
async def confirm_email(data: JSONBody[LinkToken], ports: Ports, ip: str | None) -> None:
    await email_change.confirm_email_change(ports, data.token, ip)


# No bearer token here either: the link may be followed on any device.
email_router = Router("/v1/account", route_handlers=[confirm_email], tags=["account"])

router = Router(
    "/v1/auth",
    route_handlers=[ask_for_reset, confirm_reset, secure_account],
    tags=["auth"],
)
