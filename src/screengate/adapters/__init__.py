"""Adapters: the edges where the ports meet SQL, Redis, argon2, the clock and the network."""
