"""Encryption at rest (Fernet: AES-128-CBC with HMAC-SHA256) for secrets read back later."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class FernetCipher:
    """ports.DataCipher. Several keys, newest first: new secrets are sealed with the first,
    and anything sealed by any of them opens (so a key can be rotated in)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("sealed with another key, or damaged") from None


def new_data_key() -> str:
    return Fernet.generate_key().decode()


def is_data_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True
