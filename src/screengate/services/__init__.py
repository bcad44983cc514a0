"""Use cases: each is one small function over the ports, in one unit of work."""
