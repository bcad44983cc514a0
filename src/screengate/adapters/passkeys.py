"""WebAuthn ceremonies on py_webauthn: options for the browser, and verifying its answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from screengate.domain.errors import InvalidPasskey
from screengate.domain.two_step import PasskeyKey, RelyingParty

# A person has a minute to touch the key or look at the camera.
TIMEOUT_MS = 60_000


class WebAuthnCeremonies:
    """ports.PasskeyCeremonies. Discoverable credentials with user verification: a passkey
    alone signs in, and counts as two factors (something held, and a PIN or a face)."""

    def registration_options(
        self,
        rp: RelyingParty,
        *,
        user_id: str,
        user_name: str,
        challenge: bytes,
        exclude: Sequence[str],
    ) -> dict[str, Any]:
        options = generate_registration_options(
            rp_id=rp.id,
            rp_name=rp.name,
            user_id=user_id.encode(),
            user_name=user_name,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude
            ],
        )
        found: dict[str, Any] = json.loads(options_to_json(options))
        return found

    def authentication_options(self, rp: RelyingParty, *, challenge: bytes) -> dict[str, Any]:
        options = generate_authentication_options(
            rp_id=rp.id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        found: dict[str, Any] = json.loads(options_to_json(options))
        return found

    def challenge_of(self, credential: Mapping[str, Any]) -> str | None:
        """The challenge the browser signed (base64url), read from its client data."""
        try:
            response = credential["response"]
            client_data = json.loads(base64url_to_bytes(str(response["clientDataJSON"])))
            challenge = client_data["challenge"]
        except (KeyError, TypeError, ValueError):
            return None
        return challenge if isinstance(challenge, str) and 0 < len(challenge) <= 200 else None

    def credential_id_of(self, credential: Mapping[str, Any]) -> str | None:
        raw = credential.get("rawId") or credential.get("id")
        if not isinstance(raw, str) or not 0 < len(raw) <= 1400:
            return None
        try:
            return bytes_to_base64url(base64url_to_bytes(raw))
        except ValueError:
            return None

    def verify_registration(
        self, rp: RelyingParty, credential: Mapping[str, Any], *, challenge: bytes
    ) -> PasskeyKey:
        try:
            verified = verify_registration_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                require_user_verification=True,
            )
        except (WebAuthnException, KeyError, TypeError, ValueError) as error:
            raise InvalidPasskey(_why(error)) from None
        return PasskeyKey(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
        )

    def verify_authentication(
        self,
        rp: RelyingParty,
        credential: Mapping[str, Any],
        *,
        challenge: bytes,
        public_key: str,
        sign_count: int,
    ) -> int:
        """The authenticator's new signature counter; InvalidPasskey if anything is off (a
        counter that went back says the key was cloned)."""
        try:
            verified = verify_authentication_response(
                credential=dict(credential),
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                credential_public_key=base64url_to_bytes(public_key),
                credential_current_sign_count=sign_count,
                require_user_verification=True,
            )
        except (WebAuthnException, KeyError, TypeError, ValueError) as error:
            raise InvalidPasskey(_why(error)) from None
        return verified.new_sign_count


def _why(error: Exception) -> str:
    # The library's messages name what failed (origin, challenge, signature), never a secret.
    text = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    return f"The passkey's answer could not be verified: {text}" if text else InvalidPasskey.title
