"""The key that seals authenticator secrets: the operator's (rotatable), or one per database,
made by whichever process starts first, so every instance opens what another sealed."""

from __future__ import annotations

import pytest

from screengate.adapters.cipher import FernetCipher, new_data_key
from screengate.adapters.sql import upgrade
from screengate.config import Settings
from screengate.wiring import data_keys
from tests.support.clock import FrozenClock


async def test_every_instance_on_a_database_seals_with_the_same_kept_key(
    sql_store_url: str,
) -> None:
    await upgrade(sql_store_url)
    settings = Settings(database_url=sql_store_url)
    first, second = [await data_keys(settings, FrozenClock()) for _ in range(2)]
    assert first == second
    sealed = FernetCipher(first).seal("JBSWY3DPEHPK3PXP")
    assert FernetCipher(second).open(sealed) == "JBSWY3DPEHPK3PXP"
    assert "JBSWY3DPEHPK3PXP" not in sealed


async def test_the_operators_keys_win_and_an_old_key_still_opens_after_rotation() -> None:
    old, new = new_data_key(), new_data_key()
    sealed_before = FernetCipher([old]).seal("secret")
    rotated = await data_keys(
        Settings(database_url="memory://", data_key=f"{new},{old}"), FrozenClock()
    )
    assert rotated == [new, old]
    cipher = FernetCipher(rotated)
    assert cipher.open(sealed_before) == "secret"
    assert FernetCipher([new]).open(cipher.seal("fresh")) == "fresh"


async def test_a_key_that_is_not_a_fernet_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="SCREENGATE_DATA_KEY"):
        await data_keys(Settings(database_url="memory://", data_key="x" * 44), FrozenClock())


def test_what_another_key_sealed_does_not_open() -> None:
    sealed = FernetCipher([new_data_key()]).seal("secret")
    with pytest.raises(ValueError, match="another key"):
        FernetCipher([new_data_key()]).open(sealed)
