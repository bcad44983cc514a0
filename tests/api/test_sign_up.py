"""POST /v1/auth/sign-up: a new account on a plan, with its first profile."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import PASSWORD, assert_problem, new_email, sign_in


def test_signing_up_answers_the_new_account(client: httpx.Client) -> None:
    email = new_email()

    answer = client.post(
        "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "basic"}
    )

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) >= {"account_id", "email", "plan"}
    assert body["email"] == email
    assert body["plan"] == "basic"
    assert body["account_id"]
    assert PASSWORD not in answer.text


def test_signing_up_creates_the_first_profile_on_the_chosen_plan(client: httpx.Client) -> None:
    email = new_email("maria.silva")
    client.post("/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "premium"})
    device = sign_in(client, email)

    account = client.get("/v1/account", headers=device.auth).json()

    assert account["email"] == email
    assert account["plan"] == {
        "name": "premium",
        "max_streams": 4,
        "max_download_devices": 6,
        "max_downloads_per_device": 100,
    }
    assert len(account["profiles"]) == 1
    first = account["profiles"][0]
    assert set(first) >= {"profile_id", "name", "kids", "locked"}
    assert first["name"].startswith("Maria Silva")
    assert first["kids"] is False
    assert first["locked"] is False


def test_an_email_signs_up_once_whatever_its_case(client: httpx.Client) -> None:
    email = new_email()
    first = client.post("/v1/auth/sign-up", json={"email": email, "password": PASSWORD})
    assert first.status_code == 201

    again = client.post(
        "/v1/auth/sign-up", json={"email": f"  {email.upper()} ", "password": "another pass phrase"}
    )

    assert_problem(again, 409, "email_taken")
    # The first account is untouched: its password still signs in, the second one does not.
    sign_in(client, email)
    wrong = client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": "another pass phrase", "device": {"type": "phone"}},
    )
    assert_problem(wrong, 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short1!", "too_short"),
        ("password123", "common"),
        ("qwertyuiop", "common"),
        ("aaaaaaaaaaaa", "guessable"),
    ],
)
def test_a_weak_password_is_refused_naming_the_field(
    client: httpx.Client, password: str, rule: str
) -> None:
    answer = client.post("/v1/auth/sign-up", json={"email": new_email(), "password": password})

    body = assert_problem(answer, 422, "weak_password")
    assert body["rule"] == rule
    assert [e["field"] for e in body["errors"]] == ["password"]
    assert password not in answer.text


def test_a_password_equal_to_the_email_is_refused(client: httpx.Client) -> None:
    email = new_email()
    for password in (email, email.upper(), email.partition("@")[0]):
        answer = client.post("/v1/auth/sign-up", json={"email": email, "password": password})
        body = assert_problem(answer, 422, "weak_password")
        assert [e["field"] for e in body["errors"]] == ["password"]


def test_an_unknown_plan_is_refused_and_lists_the_plans(client: httpx.Client) -> None:
    answer = client.post(
        "/v1/auth/sign-up", json={"email": new_email(), "password": PASSWORD, "plan": "platinum"}
    )

    body = assert_problem(answer, 422, "unknown_plan")
    assert set(body["plans"]) == {"basic", "standard_with_ads", "standard", "premium"}


def test_an_invalid_email_is_refused_naming_the_field(client: httpx.Client) -> None:
    answer = client.post("/v1/auth/sign-up", json={"email": "not-an-email", "password": PASSWORD})

    body = assert_problem(answer, 422, "invalid_email")
    assert [e["field"] for e in body["errors"]] == ["email"]


def test_a_refused_sign_up_leaves_no_account_behind(client: httpx.Client) -> None:
    email = new_email()
    refused = client.post("/v1/auth/sign-up", json={"email": email, "password": "short"})
    assert refused.status_code == 422
    refused = client.post(
        "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "nope"}
    )
    assert refused.status_code == 422

    signing_in = client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": "short", "device": {"type": "phone"}},
    )
    assert_problem(signing_in, 401, "invalid_credentials")
    # And the email is still free.
    later = client.post("/v1/auth/sign-up", json={"email": email, "password": PASSWORD})
    assert later.status_code == 201
