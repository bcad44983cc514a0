"""screengate: account access for a streaming platform."""
