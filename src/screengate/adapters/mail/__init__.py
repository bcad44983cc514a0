"""Mail at the edge: templates, the SMTP and .eml transports, and the outbox's sender."""
