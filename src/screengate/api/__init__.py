"""JSON over HTTP (/v1): thin routes over the services, one error mapping, OpenAPI."""
