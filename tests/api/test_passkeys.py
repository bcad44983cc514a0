"""Passkeys over HTTP with a software authenticator: add, name, list, remove; sign in with a
passkey alone; confirm it's you with one; and the attacks (a replayed answer, another site's
answer, an answer for a removed passkey, a cloned key's counter)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from screengate.domain.ids import AccountId
from tests.support.api import Device, sign_in, sign_up
from tests.support.authenticator import SoftAuthenticator
from tests.support.live_server import LiveServer
from tests.support.two_step import enable_two_step, password_step


def _add(
    client: httpx.Client, device: Device, key: SoftAuthenticator, name: str | None = "Laptop"
) -> dict[str, Any]:
    options = client.post("/v1/account/passkeys/options", headers=device.auth)
    assert options.status_code == 200, options.text
    assert options.json()["authenticatorSelection"]["residentKey"] == "required"
    added = client.post(
        "/v1/account/passkeys",
        json={"credential": key.create(options.json()), "name": name},
        headers=device.auth,
    )
    assert added.status_code == 201, added.text
    found: dict[str, Any] = added.json()
    return found


def _sign_in(client: httpx.Client, key: SoftAuthenticator, **kw: str) -> httpx.Response:
    options = client.post("/v1/auth/passkey/options")
    assert options.status_code == 200, options.text
    return client.post(
        "/v1/auth/passkey",
        json={"credential": key.get(options.json(), **kw), "device": {"type": "pc_app"}},
    )


def _key(server: LiveServer) -> SoftAuthenticator:
    return SoftAuthenticator(origin=server.base_url)


def test_a_passkey_is_added_listed_and_signs_in_with_no_password(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    added = _add(client, phone, key, "Ana's laptop")
    assert added["name"] == "Ana's laptop"
    listed = client.get("/v1/account/passkeys", headers=phone.auth).json()
    assert [p["passkey_id"] for p in listed] == [added["passkey_id"]]
    signed_in = _sign_in(client, key)
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.json()["access_token"]
    me = client.get("/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == account.email
    assert client.get("/v1/account/passkeys", headers=phone.auth).json()[0]["last_used_at"]


def test_a_passkey_signs_in_even_with_two_step_on(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    enable_two_step(client, phone, server.clock.now())
    key = _key(server)
    _add(client, phone, key)
    assert "passkey" in password_step(client, account)["methods"]
    assert _sign_in(client, key).status_code == 201


def test_an_answer_is_good_once(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    _add(client, phone, key)
    options = client.post("/v1/auth/passkey/options").json()
    answer = key.get(options)
    body = {"credential": answer, "device": {"type": "pc_app"}}
    assert client.post("/v1/auth/passkey", json=body).status_code == 201
    replayed = client.post("/v1/auth/passkey", json=body)
    assert replayed.status_code == 400
    assert replayed.json()["code"] == "invalid_passkey"


def test_an_answer_made_for_another_site_is_refused(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    _add(client, phone, key)
    phished = _sign_in(client, key, origin="https://screengate.example.evil")
    assert phished.status_code == 400
    assert phished.json()["code"] == "invalid_passkey"


def test_a_cloned_key_whose_counter_goes_back_is_refused(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    _add(client, phone, key)
    assert _sign_in(client, key).status_code == 201
    assert _sign_in(client, key).status_code == 201
    key.sign_count = 0  # a copy of the key, still at its first use
    assert _sign_in(client, key).status_code == 400


def test_a_removed_passkey_signs_in_no_more_and_removing_needs_a_fresh_proof(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    added = _add(client, phone, key)
    server.clock.advance(timedelta(minutes=5, seconds=1))
    asked = client.delete(f"/v1/account/passkeys/{added['passkey_id']}", headers=phone.auth)
    assert asked.status_code == 403
    assert asked.json()["methods"] == ["password", "passkey"]
    options = client.post("/v1/auth/passkey/options").json()
    proved = client.post(
        "/v1/auth/reauth", json={"credential": key.get(options)}, headers=phone.auth
    )
    assert proved.status_code == 204, proved.text
    removed = client.delete(f"/v1/account/passkeys/{added['passkey_id']}", headers=phone.auth)
    assert removed.status_code == 204
    again = client.delete(f"/v1/account/passkeys/{added['passkey_id']}", headers=phone.auth)
    assert again.status_code == 404
    assert _sign_in(client, key).status_code == 400
    kinds = [
        e["kind"] for e in client.get("/v1/account/activity", headers=phone.auth).json()["events"]
    ]
    assert "passkey_removed" in kinds


def test_another_accounts_passkey_neither_confirms_nor_is_removable(
    client: httpx.Client, server: LiveServer
) -> None:
    mine, theirs = sign_up(client), sign_up(client)
    my_phone = sign_in(client, mine, "Phone", "phone")
    their_phone = sign_in(client, theirs, "Phone", "phone")
    their_key = _key(server)
    their_passkey = _add(client, their_phone, their_key)
    options = client.post("/v1/auth/passkey/options").json()
    borrowed = client.post(
        "/v1/auth/reauth", json={"credential": their_key.get(options)}, headers=my_phone.auth
    )
    assert borrowed.status_code == 400
    kinds = [
        e["kind"]
        for e in client.get("/v1/account/activity", headers=my_phone.auth).json()["events"]
    ]
    assert "reauth_failed" in kinds
    gone = client.delete(
        f"/v1/account/passkeys/{their_passkey['passkey_id']}", headers=my_phone.auth
    )
    assert gone.status_code == 404


def test_a_passkey_without_user_verification_is_refused(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    key.user_verified = False
    options = client.post("/v1/account/passkeys/options", headers=phone.auth).json()
    refused = client.post(
        "/v1/account/passkeys", json={"credential": key.create(options)}, headers=phone.auth
    )
    assert refused.status_code == 400
    odd = client.post("/v1/account/passkeys", json={"credential": {"id": 5}}, headers=phone.auth)
    assert odd.status_code == 400


def test_a_secured_account_lets_no_passkey_in_until_the_password_is_reset(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    key = _key(server)
    _add(client, phone, key)

    async def secure() -> None:
        # What "This wasn't me" leaves behind (services/recovery.py): a reset is the way in.
        async with server.ports.uow() as uow:
            found = await uow.accounts.get(AccountId(account.account_id))
            assert found is not None
            found.password_reset_required = True
            await uow.accounts.save(found)
            await uow.commit()

    server.run(secure())
    refused = _sign_in(client, key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_reset_required"
