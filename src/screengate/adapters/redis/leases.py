"""Stream slots as Redis leases: one Lua script per operation, so admission is atomic.

Per account, a sorted set of its leases (member: stream id, score: expiry in epoch
milliseconds) and a hash holding each lease's stream record as JSON, so a refusal can name
the holders without asking a database that may not have committed them yet. The account id
is the keys' cluster hash tag, so both keys of a script live in one slot on Redis Cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from redis.asyncio import BlockingConnectionPool, Redis

from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId, StreamId
from screengate.domain.streams import Stream
from screengate.ports import LeaseGrant

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Shared by the scripts that write: drop what expired at `now`, and keep both keys alive for
# twice as long as the furthest lease still has, so an account that walks away leaves no keys.
# The TTL is relative to the caller's `now`, not Redis's clock, so a skew between the two
# cannot expire the keys early.
_HOUSEKEEPING = """
local function drop_expired(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
  for _, stream in ipairs(expired) do
    redis.call('ZREM', KEYS[1], stream)
    redis.call('HDEL', KEYS[2], stream)
  end
end

local function keep_alive(now)
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if #last == 0 then
    return
  end
  local ttl = math.max(2 * (tonumber(last[2]) - now), 1000)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
"""

# KEYS: leases, records. ARGV: now, session, stream, limit, expires_at, record.
# Answers {1, replaced ids...} when admitted, {0, holder records...} when not (writing nothing).
_ACQUIRE = (
    _HOUSEKEEPING
    + """
local now = tonumber(ARGV[1])
local session, stream, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
drop_expired(now)
local own, others = {}, {}
for _, held in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if held ~= stream then
    local record = redis.call('HGET', KEYS[2], held)
    if record and cjson.decode(record)['session_id'] == session then
      own[#own + 1] = held
    else
      others[#others + 1] = record or cjson.encode({id = held})
    end
  end
end
if #others >= limit then
  return {0, unpack(others)}
end
for _, held in ipairs(own) do
  redis.call('ZREM', KEYS[1], held)
  redis.call('HDEL', KEYS[2], held)
end
redis.call('ZADD', KEYS[1], ARGV[5], stream)
redis.call('HSET', KEYS[2], stream, ARGV[6])
keep_alive(now)
return {1, unpack(own)}
"""
)

# KEYS: leases, records. ARGV: now, session, stream, expires_at. Answers 1 if renewed, else 0.
_RENEW = (
    _HOUSEKEEPING
    + """
local now = tonumber(ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[3])
if not score or tonumber(score) <= now then
  return 0
end
local record = redis.call('HGET', KEYS[2], ARGV[3])
if not record or cjson.decode(record)['session_id'] ~= ARGV[2] then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[3])
keep_alive(now)
return 1
"""
)

# KEYS: leases, sessions. ARGV: the streams to release.
_RELEASE = """
for _, stream in ipairs(ARGV) do
  redis.call('ZREM', KEYS[1], stream)
  redis.call('HDEL', KEYS[2], stream)
end
return 0
"""

# KEYS: leases, records. ARGV: now. Answers {record, expires_at} pairs of the live leases.
_LIVE = """
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
local answer = {}
for i = 1, #live, 2 do
  local record = redis.call('HGET', KEYS[2], live[i])
  if record then
    answer[#answer + 1] = record
    answer[#answer + 1] = live[i + 1]
  end
end
return answer
"""


class RedisStreamLeases:
    """ports.StreamLeases on one Redis (or one Cluster slot per account)."""

    def __init__(self, redis: Redis, *, key_prefix: str = "screengate") -> None:
        self._prefix = key_prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._live = redis.register_script(_LIVE)

    async def acquire(self, stream: Stream, *, limit: int, now: datetime) -> LeaseGrant:
        answer = await self._acquire(
            keys=self._keys(stream.account_id),
            args=[
                _ms(now),
                stream.session_id,
                stream.id,
                limit,
                _ms(stream.expires_at),
                _encode(stream),
            ],
        )
        admitted, *streams = answer
        if int(admitted) == 1:
            return LeaseGrant(admitted=True, replaced=tuple(StreamId(_text(s)) for s in streams))
        holders = tuple(h for h in (_decode(_text(s)) for s in streams) if h is not None)
        return LeaseGrant(admitted=False, holders=holders)

    async def renew(
        self,
        account_id: AccountId,
        session_id: SessionId,
        stream_id: StreamId,
        *,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        answer = await self._renew(
            keys=self._keys(account_id),
            args=[_ms(now), session_id, stream_id, _ms(expires_at)],
        )
        return int(answer) == 1

    async def release(self, account_id: AccountId, stream_ids: Sequence[StreamId]) -> None:
        if stream_ids:
            await self._release(keys=self._keys(account_id), args=list(stream_ids))

    async def live(self, account_id: AccountId, now: datetime) -> list[Stream]:
        held = await self._live(keys=self._keys(account_id), args=[_ms(now)])
        live = []
        for record, score in zip(held[::2], held[1::2], strict=True):
            stream = _decode(_text(record))
            if stream is not None:
                stream.expires_at = _EPOCH + timedelta(milliseconds=int(score))
                live.append(stream)
        return sorted(live, key=lambda s: s.started_at)

    def _keys(self, account_id: AccountId) -> list[str]:
        return [
            f"{self._prefix}:leases:{{{account_id}}}",
            f"{self._prefix}:lease-session:{{{account_id}}}",
        ]


def redis_client(url: str, *, max_connections: int = 64, wait: float = 5.0) -> Redis:
    """A client owning its connection pool; nothing connects until the first command.

    The pool blocks a caller for up to `wait` seconds when all `max_connections` are busy:
    redis-py's default pool would instead fail a burst of Plays with MaxConnectionsError.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        decode_responses=True,
        max_connections=max_connections,
        timeout=wait,
        # An unreachable Redis fails a call within seconds instead of hanging it.
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
    )
    return Redis.from_pool(pool)


def _encode(stream: Stream) -> str:
    return json.dumps(
        {
            "id": stream.id,
            "account_id": stream.account_id,
            "session_id": stream.session_id,
            "device_id": stream.device_id,
            "profile_id": stream.profile_id,
            "title_id": stream.title_id,
            "started_at": _ms(stream.started_at),
            "expires_at": _ms(stream.expires_at),
        },
        separators=(",", ":"),
    )


def _decode(record: str) -> Stream | None:
    fields = json.loads(record)
    if "session_id" not in fields:
        return None
    return Stream(
        id=StreamId(fields["id"]),
        account_id=AccountId(fields["account_id"]),
        session_id=SessionId(fields["session_id"]),
        device_id=DeviceId(fields["device_id"]),
        profile_id=ProfileId(fields["profile_id"]),
        title_id=fields["title_id"],
        started_at=_EPOCH + timedelta(milliseconds=fields["started_at"]),
        expires_at=_EPOCH + timedelta(milliseconds=fields["expires_at"]),
    )


def _ms(moment: datetime) -> int:
    """Epoch milliseconds, in integers (a float timestamp could round a millisecond away)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"refusing a naive datetime: {moment!r}")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _text(value: str | bytes) -> str:
    # Also for a client made without decode_responses.
    return value.decode() if isinstance(value, bytes) else value
