"""Benchmarks of a real screengate server: `make bench` runs `python -m bench`."""
