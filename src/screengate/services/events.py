"""A device's event stream: it is told at once when it is signed out, or loses a stream or
its downloads."""

from __future__ import annotations

from screengate.domain.errors import InvalidToken, SignedOut
from screengate.domain.sessions import Principal
from screengate.ports import Listener, Ports


async def open_events(ports: Ports, principal: Principal, last_event_id: str | None) -> Listener:
    """Start listening, then make sure no sign-out slipped in while the stream was opening."""
    listener = ports.hub.listen(principal.session_id, principal.device_id, last_event_id)
    await ports.presence.join(principal.session_id)
    try:
        async with ports.reader() as uow:
            session = await uow.sessions.get(principal.session_id)
        if session is None:
            raise InvalidToken()
        if not session.live:
            raise SignedOut(str(session.sign_out_reason), session.signed_out_at)
    except BaseException:
        await close_events(ports, principal, listener)
        raise
    return listener


async def close_events(ports: Ports, principal: Principal, listener: Listener) -> None:
    listener.close()
    await ports.presence.leave(principal.session_id)
