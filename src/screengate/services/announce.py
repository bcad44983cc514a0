"""Telling everyone a sign-out happened, once the store has it."""

from __future__ import annotations

from screengate.domain.sessions import SignOut
from screengate.ports import Ports


async def announce(ports: Ports, sign_out: SignOut) -> None:
    if not sign_out.session_ids:
        return
    # This instance refuses the credentials before the call returns, whatever the bus does.
    ports.revocations.revoke(sign_out.session_ids)
    if ports.leases is not None and sign_out.stream_ids:
        # The store already ended these streams; free their Redis slots too.
        await ports.leases.release(sign_out.account_id, sign_out.stream_ids)
    await ports.bus.publish(sign_out)
