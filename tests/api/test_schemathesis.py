"""Schemathesis over screengate's OpenAPI document: no 5xx, every answer as documented, and a
refused request (4xx) writes nothing (every row of every table compared, but for the failed
attempts the security log records on purpose).

One live server per store serves every operation; each operation gets an account and a
signed-in device of its own, so no operation's cases meet what another's left behind, and the
cases of operations that sign the calling device out get a device of their own each, so none
spoils the next. (A server per operation cost a second or two of start-up 52 times over.)

The document is built from create_app() at collection time, because schemathesis's lazy
`from_fixture` loader does not work with pytest 9.2 (it sets `Node._nodeid`, which pytest no
longer has); the first test proves it is the very document the live server serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from screengate.app import create_app
from tests.api.conftest import api_client, settings_for
from tests.support.api import Account, Device, sign_in, sign_up
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server
from tests.support.store_rows import StoreReader, written_by_a_refusal

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A Server-Sent Events stream stays open for as long as the device is signed in: there is no
# single answer to check, so it is tested with requests written for it, not fuzzed.
STREAMING = "/v1/events"
# Operations whose every successful call ends the calling device's session. Others cannot end
# it with what the fuzzer sends (it never knows the password or the device's own id).
SIGNS_THIS_DEVICE_OUT = {"POST /v1/auth/sign-out", "POST /v1/devices/sign-out-all"}


def openapi_document() -> dict[str, Any]:
    """The document create_app() serves at /docs/openapi.json; building it does no I/O."""
    document: dict[str, Any] = create_app(settings_for("memory://")).openapi_schema.to_schema()
    return document


DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path=STREAMING)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real stores, where strings meet SQL (a NUL once took PostgreSQL to a 500). The
    memory store, a test double, gets every path through the rest of tests/api."""
    with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[StoreReader]:
    reader = StoreReader(database_url)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(settings_for(database_url), FrozenClock()) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with api_client(server.base_url) as http:
        yield http


@pytest.fixture
def account(client: httpx.Client) -> Account:
    account = sign_up(client)
    sign_in(client, account)
    return account


def a_device_for(case: schemathesis.Case[Any], client: httpx.Client, account: Account) -> Device:
    """The operation's device, or a new one where the case may sign its own device out."""
    if case.operation.label in SIGNS_THIS_DEVICE_OUT:
        return sign_in(client, account)
    return account.devices[0]


def test_the_fuzzed_document_is_the_one_the_server_serves(client: httpx.Client) -> None:
    served = client.get("/docs/openapi.json")

    assert served.status_code == 200
    assert served.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case[Any],
    server: LiveServer,
    client: httpx.Client,
    account: Account,
    store: StoreReader,
) -> None:
    device = a_device_for(case, client, account)
    headers = dict(case.headers or {})
    headers["Authorization"] = f"Bearer {device.access_token}"
    before = store.rows()

    response = case.call(base_url=server.base_url, headers=headers)

    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        changes = written_by_a_refusal(before, store.rows())
        assert not changes, (response.status_code, response.text[:300], changes)
