"""A typed client for devices (httpx, asyncio): sign in, keep the tokens fresh, play with
heartbeats, download, and hear at once when this device is signed out.

    async with ScreengateClient("http://127.0.0.1:8000") as client:
        tv = await client.sign_in(email, password, "smart_tv", name="Living Room TV")
        async for event in tv.events():
            match event:
                case SignedOutEvent(detail=detail):
                    print("Signed out:", detail)  # the stream ends after this one
                case StreamEndedEvent(reason=reason):
                    print("Playback stopped:", reason)
"""

from screengate.client.errors import (
    CodeSignInError,
    ConnectionLostError,
    InvalidCredentialsError,
    InvalidTokenError,
    NotFoundError,
    ScreengateError,
    SignedOutError,
    StreamEndedError,
    TokenExpiredError,
    TooManyAttemptsError,
    TooManyStreamsError,
)
from screengate.client.events import (
    DownloadsRevokedEvent,
    Event,
    Reconnect,
    SignedOutEvent,
    StreamEndedEvent,
    StreamReplacedEvent,
    UnknownEvent,
)
from screengate.client.models import (
    Account,
    ActiveStream,
    CodeOffer,
    Device,
    DeviceType,
    Download,
    Plan,
    Profile,
    SignedOutDevice,
    SignedUp,
    Tokens,
)
from screengate.client.playback import Playback
from screengate.client.session import DeviceSession, ScreengateClient, TokenStore
from screengate.client.sse import SseComment, SseMessage, SseParser

__all__ = [
    "Account",
    "ActiveStream",
    "CodeOffer",
    "CodeSignInError",
    "ConnectionLostError",
    "Device",
    "DeviceSession",
    "DeviceType",
    "Download",
    "DownloadsRevokedEvent",
    "Event",
    "InvalidCredentialsError",
    "InvalidTokenError",
    "NotFoundError",
    "Plan",
    "Playback",
    "Profile",
    "Reconnect",
    "ScreengateClient",
    "ScreengateError",
    "SignedOutDevice",
    "SignedOutError",
    "SignedOutEvent",
    "SignedUp",
    "SseComment",
    "SseMessage",
    "SseParser",
    "StreamEndedError",
    "StreamEndedEvent",
    "StreamReplacedEvent",
    "TokenExpiredError",
    "TokenStore",
    "Tokens",
    "TooManyAttemptsError",
    "TooManyStreamsError",
    "UnknownEvent",
]
