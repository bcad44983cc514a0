"""What operators and tools read: health, readiness, the OpenAPI document, Prometheus metrics."""

from __future__ import annotations

import httpx

from tests.api.conftest import StartServer
from tests.support.api import account_with_devices

CONTRACT = {
    "/v1/auth/sign-up": {"post"},
    "/v1/auth/sign-in": {"post"},
    "/v1/auth/refresh": {"post"},
    "/v1/auth/sign-out": {"post"},
    "/v1/account": {"get"},
    "/v1/account/password": {"post"},
    "/v1/account/activity": {"get"},
    "/v1/devices": {"get"},
    "/v1/devices/{device_id}/sign-out": {"post"},
    "/v1/devices/sign-out-all": {"post"},
    "/v1/profiles": {"get", "post"},
    "/v1/profiles/{profile_id}": {"patch", "delete"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}


def test_the_service_says_it_is_alive(client: httpx.Client) -> None:
    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_the_service_is_ready_when_its_store_answers(client: httpx.Client) -> None:
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["status"] == "ready"
    assert body["store"] == "ok"


def test_the_openapi_document_describes_the_whole_contract(client: httpx.Client) -> None:
    answer = client.get("/docs/openapi.json")

    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "screengate"
    for path, methods in CONTRACT.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    sign_in = document["paths"]["/v1/auth/sign-in"]["post"]
    assert {"201", "401", "422", "429"} <= set(sign_in["responses"])
    problem = sign_in["responses"]["401"]["content"]
    assert "application/problem+json" in problem
    device = document["components"]["schemas"]["DeviceIn"]["properties"]["type"]
    assert set(_enum_of(device, document)) == {
        "phone",
        "tablet",
        "pc_app",
        "web_browser",
        "smart_tv",
        "streaming_stick",
        "game_console",
    }


PUBLIC = {
    ("post", "/v1/auth/sign-up"),
    ("post", "/v1/auth/sign-in"),
    ("post", "/v1/auth/refresh"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


def test_the_openapi_document_asks_for_a_token_exactly_where_one_is_needed(
    client: httpx.Client,
) -> None:
    document = client.get("/docs/openapi.json").json()

    assert "security" not in document  # no blanket requirement over sign-in and the rest
    for path, methods in CONTRACT.items():
        for method in methods:
            security = document["paths"][path][method].get("security")
            if (method, path) in PUBLIC:
                assert not security, (method, path)
            else:
                assert security == [{"bearer": []}], (method, path)


def _enum_of(schema: dict[str, object], document: dict[str, object]) -> list[str]:
    """The enum a property holds, inline or behind a $ref."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        components = document["components"]
        assert isinstance(components, dict)
        schema = components["schemas"][name]
    values = schema["enum"]
    assert isinstance(values, list)
    return values


def test_the_docs_page_is_served(client: httpx.Client) -> None:
    answer = client.get("/docs/")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")


METRICS_TOKEN = "scrape-0123456789abcdef"


def test_metrics_are_not_served_to_the_world_by_default(client: httpx.Client) -> None:
    answer = client.get("/metrics")

    assert answer.status_code == 404
    assert "screengate_requests_total" not in answer.text


def test_metrics_need_the_token_when_one_is_set(start_server: StartServer) -> None:
    _, client = start_server(metrics_token=METRICS_TOKEN)

    for authorization in (
        None,
        "Bearer wrong-token-0123456789",
        f"Basic {METRICS_TOKEN}",
        "Bearer",
    ):
        headers = {"Authorization": authorization} if authorization else {}
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401, authorization
        assert answer.json()["code"] == "invalid_token"
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "# TYPE" not in answer.text


def test_metrics_are_exposed_for_prometheus_with_the_token(start_server: StartServer) -> None:
    _, client = start_server(metrics_token=METRICS_TOKEN)
    device = account_with_devices(client, 1).devices[0]
    client.get("/v1/account", headers=device.auth)

    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in answer.text
    assert "screengate_requests_total" in answer.text
    assert device.access_token not in answer.text
    assert METRICS_TOKEN not in answer.text
