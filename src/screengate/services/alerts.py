"""The new sign-in alert: a device the account has never seen signed in, mailed to the owner
with a "This wasn't me" link."""

from __future__ import annotations

from datetime import datetime, timedelta

from screengate.domain.accounts import Account
from screengate.domain.devices import DEFAULT_DEVICE_NAMES, Device
from screengate.domain.mail import LinkPurpose, MailKind, device_key
from screengate.ports import Ports, UnitOfWork
from screengate.services.mail import new_link, queue_mail, when

# At most one alert per device (its type and name) per hour: an app that keeps no device id
# is a new device at every sign-in, and one person signing in again and again is one alert.
ALERT_EVERY = timedelta(hours=1)


async def alert_if_new(
    uow: UnitOfWork,
    ports: Ports,
    account: Account,
    device: Device,
    location: str | None,
    now: datetime,
) -> bool:
    """Inside sign-in's transaction, for a device new to the account: mail the owner. No
    alert for the account's very first device (its owner is the one signing up), or when this
    device was alerted about within the hour. True if mailed."""
    if ports.mail is None:
        return False
    if len(await uow.devices.for_account(account.id)) <= 1:
        return False
    key = device_key(device.type.value, device.name)
    if await uow.links.sent_since(account.id, LinkPurpose.SECURE_ACCOUNT, key, now - ALERT_EVERY):
        return False
    message_id = ports.tokens.new_id()
    link = await new_link(
        uow, ports, LinkPurpose.SECURE_ACCOUNT, account.id, message_id=message_id, device_key=key
    )
    await queue_mail(
        uow,
        ports,
        MailKind.NEW_SIGN_IN,
        to=account.email,
        account_id=account.id,
        context={
            "device_name": device.name,
            "device_kind": DEFAULT_DEVICE_NAMES.get(device.type, device.type.value),
            "location": location or "Unknown location",
            "when": when(now),
            "link": link,
        },
        message_id=message_id,
    )
    return True
