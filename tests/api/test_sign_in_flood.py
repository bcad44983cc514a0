"""A flood of sign-ins from one address is refused before it is hashed, and the bounded
hashing refuses what is past its queue: the flooder gets 429/503, everyone else gets in."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.conftest import StartServer, api_client
from tests.support.api import PASSWORD, new_email, sign_up

FLOOD = "203.0.113.66"
HOME = "198.51.100.7"
FLOODERS = 8
EACH = 12
PER_ADDRESS = 20


def test_a_flood_from_one_address_is_refused_and_a_sign_in_from_elsewhere_still_succeeds(
    start_server: StartServer,
) -> None:
    server, client = start_server(
        trusted_proxies=["127.0.0.1"],
        sign_in_limit_per_client=f"{PER_ADDRESS}/minute",
        hashing_concurrency=1,
        hashing_queue=2,
    )
    account = sign_up(client)
    shapes = itertools.cycle(
        [
            {"email": account.email, "password": "a wrong guess"},
            {"email": new_email("nobody"), "password": "a wrong guess"},
            {"email": "not an email", "password": "a wrong guess"},
            {"email": account.email, "password": PASSWORD},  # right ones count too
        ]
    )
    bodies = [next(shapes) for _ in range(FLOODERS * EACH)]

    def flood(chunk: list[dict[str, str]]) -> list[httpx.Response]:
        with api_client(server.base_url) as own:
            return [
                own.post(
                    "/v1/auth/sign-in",
                    json={**body, "device": {"type": "phone"}},
                    headers={"X-Forwarded-For": FLOOD},
                )
                for body in chunk
            ]

    with ThreadPoolExecutor(FLOODERS) as pool:
        flooding = [pool.submit(flood, bodies[n::FLOODERS]) for n in range(FLOODERS)]
        legit = [
            client.post(
                "/v1/auth/sign-in",
                json={"email": account.email, "password": PASSWORD, "device": {"type": "smart_tv"}},
                headers={"X-Forwarded-For": HOME},
            )
            for _ in range(3)
        ]
        answers = [answer for future in flooding for answer in future.result()]

    refused = [a for a in answers if a.status_code in (429, 503)]
    assert {a.status_code for a in answers} <= {201, 401, 429, 503}
    # At most PER_ADDRESS of them were let in to be judged; all the rest were refused unhashed
    # (429 too_many_attempts) or past the hashing queue (503 server_busy).
    assert len(refused) >= len(answers) - PER_ADDRESS
    for answer in refused:
        assert answer.json()["code"] in {"too_many_attempts", "server_busy"}
        assert int(answer.headers["Retry-After"]) >= 1
    # The owner at home is not held up by the flood: a 503 may meet a sign-in that arrives
    # while the queue is full, and it says to try again in a second, so tries again.
    for answer in legit:
        if answer.status_code == 503:
            answer = client.post(
                "/v1/auth/sign-in",
                json={"email": account.email, "password": PASSWORD, "device": {"type": "smart_tv"}},
                headers={"X-Forwarded-For": HOME},
            )
        assert answer.status_code == 201, answer.text
