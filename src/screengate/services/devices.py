"""Manage access and devices: every signed-in device, the current one marked."""

from __future__ import annotations

from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.views import DeviceView, LastActivity


async def list_devices(ports: Ports, principal: Principal) -> list[DeviceView]:
    """Most recently seen first. A device whose session lapsed is no longer signed in."""
    now = ports.clock.now()
    async with ports.uow() as uow:
        sessions = await uow.sessions.live_for_account(principal.account_id)
        devices = {d.id: d for d in await uow.devices.for_account(principal.account_id)}
        profiles = {p.id: p.name for p in await uow.profiles.for_account(principal.account_id)}
    views = []
    for session in sessions:
        device = devices.get(session.device_id)
        if device is None or session.has_lapsed(now, ports.policy):
            continue
        activity = device.last_activity
        views.append(
            DeviceView(
                device_id=device.id,
                session_id=session.id,
                name=device.name,
                type=device.type,
                current=session.id == principal.session_id,
                signed_in_at=session.created_at,
                last_seen_at=session.last_seen_at,
                location=session.location,
                last_activity=LastActivity(
                    at=activity.at,
                    profile_id=activity.profile_id,
                    profile_name=profiles.get(activity.profile_id),
                    title_id=activity.title_id,
                )
                if activity
                else None,
                streaming=False,
                downloads=0,
            )
        )
    views.sort(key=lambda v: (v.current, v.last_seen_at), reverse=True)
    return views
