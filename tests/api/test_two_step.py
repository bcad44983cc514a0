"""Two-step sign-in over HTTP: enrolment, the second step, recovery codes, and the attacks
on them (replayed codes, reused recovery codes, guessing in parallel, stolen or stale
challenges), on every store."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from screengate.domain.ids import AccountId
from screengate.domain.two_step import code_at
from tests.api.conftest import StartServer
from tests.support.api import sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.support.two_step import STEP, password_step, second_step, signed_up_with_two_step

GENEROUS = "1000/minute"


def test_enrolling_gives_a_secret_an_otpauth_uri_and_ten_recovery_codes_after_a_first_code(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    started = client.post("/v1/account/two-step/totp", headers=phone.auth)
    assert started.status_code == 201, started.text
    secret, uri = started.json()["secret"], started.json()["otpauth_uri"]
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parse_qs(parts.query)["secret"] == [secret]
    assert parse_qs(parts.query)["issuer"] == ["screengate"]
    pending = client.get("/v1/account/two-step/", headers=phone.auth).json()
    assert pending == {"on": False, "pending": True, "recovery_codes_left": 0, "passkeys": 0}

    wrong = client.post(
        "/v1/account/two-step/totp/confirm", json={"code": "000000"}, headers=phone.auth
    )
    if wrong.status_code != 400:  # one chance in a million that 000000 is the code
        assert wrong.json()["code"] == "invalid_code"
    right = client.post(
        "/v1/account/two-step/totp/confirm",
        json={"code": code_at(secret, server.clock.now())},
        headers=phone.auth,
    )
    assert right.status_code == 200, right.text
    codes = right.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    status = client.get("/v1/account/two-step/", headers=phone.auth).json()
    assert status == {"on": True, "pending": False, "recovery_codes_left": 10, "passkeys": 0}
    again = client.post("/v1/account/two-step/totp", headers=phone.auth)
    assert again.status_code == 409
    assert again.json()["code"] == "two_step_already_on"


def test_the_secret_is_kept_encrypted(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())

    async def stored() -> str | None:
        async with server.ports.reader() as uow:
            found = await uow.accounts.get(AccountId(account.account_id))
        assert found is not None
        return found.totp_secret

    sealed = server.run(stored())
    assert sealed
    assert two_step.secret not in sealed
    assert server.ports.cipher.open(sealed) == two_step.secret


def test_with_two_step_on_the_password_alone_asks_for_the_second_step(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    asked = password_step(client, account)
    assert asked["methods"] == ["totp", "recovery_code"]
    assert asked["challenge"]
    assert asked["expires_in"] == 300
    server.clock.advance(STEP)  # the enrolment spent this step's code
    finished = second_step(client, asked["challenge"], code=two_step.code(server.clock.now()))
    assert finished.status_code == 201, finished.text
    tokens = finished.json()
    assert tokens["token_type"] == "Bearer"
    me = client.get("/v1/account", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    # The challenge is spent: it signs in nobody else.
    again = second_step(client, asked["challenge"], code=two_step.code(server.clock.now()))
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_challenge"


def test_a_code_works_once_even_within_its_window(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(STEP)
    code = two_step.code(server.clock.now())
    first = second_step(client, password_step(client, account)["challenge"], code=code)
    assert first.status_code == 201, first.text
    replayed = second_step(client, password_step(client, account)["challenge"], code=code)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid_code"
    # Nor does the step before it, once a later one was used.
    earlier = two_step.code(server.clock.now() - STEP)
    late = second_step(client, password_step(client, account)["challenge"], code=earlier)
    assert late.status_code == 401


def test_a_phone_one_step_behind_or_ahead_is_accepted_two_steps_is_not(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(STEP * 4)
    now = server.clock.now()
    two_behind = second_step(
        client, password_step(client, account)["challenge"], code=two_step.code(now - STEP * 2)
    )
    assert two_behind.status_code == 401
    behind = second_step(
        client, password_step(client, account)["challenge"], code=two_step.code(now - STEP)
    )
    assert behind.status_code == 201, behind.text
    ahead = second_step(
        client, password_step(client, account)["challenge"], code=two_step.code(now + STEP)
    )
    assert ahead.status_code == 201, ahead.text


def test_a_recovery_code_signs_in_once_and_is_logged(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone, two_step = signed_up_with_two_step(client, account, server.clock.now())
    code = two_step.recovery_codes[3]
    # Dashes and case are forgiven, as people type them.
    typed = code.replace("-", " ").upper()
    used = second_step(client, password_step(client, account)["challenge"], recovery_code=typed)
    assert used.status_code == 201, used.text
    reused = second_step(client, password_step(client, account)["challenge"], recovery_code=code)
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_code"
    status = client.get("/v1/account/two-step/", headers=phone.auth).json()
    assert status["recovery_codes_left"] == 9
    events = client.get("/v1/account/activity", headers=phone.auth).json()["events"]
    kinds = [e["kind"] for e in events]
    assert "recovery_code_used" in kinds
    assert "second_factor_failed" in kinds


def test_a_challenge_from_another_account_is_checked_against_that_account(
    client: httpx.Client, server: LiveServer
) -> None:
    victim, attacker = sign_up(client), sign_up(client)
    _, victims = signed_up_with_two_step(client, victim, server.clock.now())
    signed_up_with_two_step(client, attacker, server.clock.now())
    server.clock.advance(STEP)
    mine = password_step(client, attacker)["challenge"]
    theirs = victims.code(server.clock.now())
    stolen = second_step(client, mine, code=theirs)
    assert stolen.status_code == 401
    assert stolen.json()["code"] == "invalid_code"
    theirs_too = second_step(client, mine, recovery_code=victims.recovery_codes[0])
    assert theirs_too.status_code == 401
    # The victim's code is still theirs to use.
    own = second_step(client, password_step(client, victim)["challenge"], code=theirs)
    assert own.status_code == 201, own.text


def test_an_expired_challenge_is_refused(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    challenge = password_step(client, account)["challenge"]
    server.clock.advance(timedelta(minutes=5, seconds=1))
    late = second_step(client, challenge, code=two_step.code(server.clock.now()))
    assert late.status_code == 401
    assert late.json()["code"] == "invalid_challenge"
    unknown = second_step(client, "not-a-challenge", code="123456")
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "invalid_challenge"


def test_guesses_are_throttled_per_account(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(STEP)
    answers = []
    for _ in range(6):
        challenge = password_step(client, account)["challenge"]
        answers.append(second_step(client, challenge, code=_wrong(two_step.secret, server)))
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    # Past the limit even the right code waits: nothing is tried.
    challenge = password_step(client, account)["challenge"]
    right = second_step(client, challenge, code=two_step.code(server.clock.now()))
    assert right.status_code == 429


def test_guessing_one_challenge_in_parallel_gets_five_tries_in_all(
    start_server: StartServer,
) -> None:
    running, http = start_server(second_factor_limit_per_account=GENEROUS)
    account = sign_up(http)
    _, two_step = signed_up_with_two_step(http, account, running.clock.now())
    running.clock.advance(STEP)
    challenge = password_step(http, account)["challenge"]
    wrong = _wrong(two_step.secret, running)
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: second_step(http, challenge, code=wrong), range(24)))
    codes = sorted(a.json()["code"] for a in answers)
    assert codes.count("invalid_code") == 5, codes
    assert codes.count("invalid_challenge") == 19, codes
    # The challenge is spent: the right code no longer finishes it.
    right = second_step(http, challenge, code=two_step.code(running.clock.now()))
    assert right.status_code == 401
    assert right.json()["code"] == "invalid_challenge"


def test_regenerated_recovery_codes_replace_the_old_ones(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone, two_step = signed_up_with_two_step(client, account, server.clock.now())
    fresh = client.post("/v1/account/two-step/recovery-codes", headers=phone.auth)
    assert fresh.status_code == 200, fresh.text
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(two_step.recovery_codes)
    old = second_step(
        client,
        password_step(client, account)["challenge"],
        recovery_code=two_step.recovery_codes[0],
    )
    assert old.status_code == 401
    new = second_step(
        client, password_step(client, account)["challenge"], recovery_code=new_codes[0]
    )
    assert new.status_code == 201, new.text


def test_turning_two_step_off_lets_the_password_alone_sign_in(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone, _ = signed_up_with_two_step(client, account, server.clock.now())
    off = client.delete("/v1/account/two-step/totp", headers=phone.auth)
    assert off.status_code == 204, off.text
    sign_in(client, account, "Laptop", "pc_app")
    events = client.get("/v1/account/activity", headers=phone.auth).json()["events"]
    assert "two_step_disabled" in [e["kind"] for e in events]
    mailed = [e for e in events if e["kind"] == "mail_queued"]
    assert any(e["detail"].get("mail") == "security_changed" for e in mailed), mailed


def test_turning_two_step_on_can_sign_out_every_other_device(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    intruder = sign_in(client, account, "Unknown TV", "smart_tv")
    phone = sign_in(client, account, "Phone", "phone")
    secret = client.post("/v1/account/two-step/totp", headers=phone.auth).json()["secret"]
    confirmed = client.post(
        "/v1/account/two-step/totp/confirm",
        json={"code": code_at(secret, server.clock.now()), "sign_out_other_devices": True},
        headers=phone.auth,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["signed_out_devices"] == 1
    refused = client.get("/v1/account", headers=intruder.auth)
    assert refused.status_code == 401
    assert refused.json()["code"] == "signed_out"
    assert client.get("/v1/account", headers=phone.auth).status_code == 200


def _wrong(secret: str, server: LiveServer) -> str:
    """A six-digit code that is none of the accepted window's."""
    now = server.clock.now()
    window = {code_at(secret, now + STEP * k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in window)


def test_one_code_sent_at_once_to_many_sign_ins_signs_in_exactly_one(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(STEP)
    challenges = [password_step(client, account)["challenge"] for _ in range(4)]
    code = two_step.code(server.clock.now())
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda c: second_step(client, c, code=code), challenges))
    assert sorted(a.status_code for a in answers) == [201, 401, 401, 401]


def test_one_recovery_code_sent_at_once_to_many_sign_ins_signs_in_exactly_one(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    challenges = [password_step(client, account)["challenge"] for _ in range(4)]
    code = two_step.recovery_codes[0]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda c: second_step(client, c, recovery_code=code), challenges))
    assert sorted(a.status_code for a in answers) == [201, 401, 401, 401]


def test_the_second_step_keeps_a_device_that_proved_itself_and_gives_it_a_new_secret(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    _, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(STEP)
    first = second_step(
        client, password_step(client, account)["challenge"], code=two_step.code(server.clock.now())
    ).json()
    server.clock.advance(STEP)

    def again(secret: str) -> dict[str, str]:
        device = {"type": "phone", "device_id": first["device_id"], "device_secret": secret}
        asked = client.post(
            "/v1/auth/sign-in",
            json={"email": account.email, "password": account.password, "device": device},
        ).json()
        code = two_step.code(server.clock.now())
        server.clock.advance(STEP)
        found: dict[str, str] = second_step(client, asked["challenge"], code=code).json()
        return found

    same = again(first["device_secret"])
    assert same["device_id"] == first["device_id"]
    assert same["device_secret"] != first["device_secret"]
    # The spent secret proves nothing: a new device.
    other = again(first["device_secret"])
    assert other["device_id"] != first["device_id"]
