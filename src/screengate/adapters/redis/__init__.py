"""Redis adapters for the scale-out deployment: stream-slot leases, the bus, presence."""

from screengate.adapters.redis.bus import RedisBus
from screengate.adapters.redis.leases import RedisStreamLeases, redis_client
from screengate.adapters.redis.presence import RedisPresence

__all__ = ["RedisBus", "RedisPresence", "RedisStreamLeases", "redis_client"]
