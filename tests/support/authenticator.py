"""A software passkey authenticator for API tests: what a phone's or laptop's would answer to
navigator.credentials.create() and .get(), as PublicKeyCredential JSON (base64url fields).
The browser tests use chromium's own virtual authenticator instead."""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

USER_PRESENT, USER_VERIFIED, ATTESTED = 0x01, 0x04, 0x40


@dataclass
class SoftAuthenticator:
    origin: str
    rp_id: str = "127.0.0.1"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    sign_count: int = 0
    user_verified: bool = True

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answer to registration options (a "none" attestation)."""
        numbers = self.key.public_key().public_numbers()
        cose_key = {
            1: 2,  # kty: EC2
            3: -7,  # alg: ES256
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        attested = (
            bytes(16)  # AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + encode_cbor(cose_key)
        )
        auth_data = self._auth_data(ATTESTED) + attested
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential(
            {
                "clientDataJSON": bytes_to_base64url(client_data),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal"],
            }
        )

    def get(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """The answer to authentication options: a signature over the challenge."""
        self.sign_count += 1
        auth_data = self._auth_data(0)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._credential(
            {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": None,
            }
        )

    def _auth_data(self, extra_flags: int) -> bytes:
        flags = USER_PRESENT | (USER_VERIFIED if self.user_verified else 0) | extra_flags
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count)

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        # The challenge comes as the options' base64url; clientDataJSON carries it the same.
        base64url_to_bytes(challenge)
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps(data, separators=(",", ":")).encode()

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        raw = bytes_to_base64url(self.credential_id)
        return {"id": raw, "rawId": raw, "type": "public-key", "response": response}
