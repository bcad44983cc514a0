"""Redis adapters for the scale-out deployment: the stream-slot leases."""

from screengate.adapters.redis.leases import RedisStreamLeases, redis_client

__all__ = ["RedisStreamLeases", "redis_client"]
