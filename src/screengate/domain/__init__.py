"""The domain: plans, accounts, profiles, devices, sessions and their rules. No I/O, no clock."""
