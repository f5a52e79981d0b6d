from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sparkjobs import errors
from sparkjobs.config import Settings
from sparkjobs.inputs.secrets import KEY_FILE, SecretBox, load_or_create_key


def test_round_trip_and_ciphertext_hides_the_plaintext(settings: Settings) -> None:
    box = SecretBox.from_settings(settings)
    for plaintext in ["hunter2", "", "ünïcødé ✓", "x" * 100_000]:
        token = box.encrypt(plaintext)
        assert box.decrypt(token) == plaintext
        if plaintext:
            assert plaintext not in token
    assert box.encrypt("same") != box.encrypt("same")  # random IV: equal secrets look different


def test_key_file_created_0600_and_shared(settings: Settings) -> None:
    key_path = settings.data_dir / KEY_FILE
    assert not key_path.exists()
    token = SecretBox.from_settings(settings).encrypt("hunter2")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert SecretBox.from_settings(settings).decrypt(token) == "hunter2"  # a second box agrees
    assert list(settings.data_dir.iterdir()) == [key_path]  # no temp files left behind


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    key_path = tmp_path / "data" / KEY_FILE
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(load_or_create_key(key_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert key_path.read_bytes() == keys[0]


def test_settings_key_wins_over_the_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, secret_key=key)  # type: ignore[arg-type]
    token = SecretBox.from_settings(settings).encrypt("v")
    assert not (tmp_path / KEY_FILE).exists()
    assert SecretBox(key.encode()).decrypt(token) == "v"


def test_wrong_key_is_an_input_error(settings: Settings) -> None:
    token = SecretBox.from_settings(settings).encrypt("hunter2")
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(errors.InputError, match="cannot be decrypted") as info:
        other.decrypt(token)
    assert "hunter2" not in str(info.value)
    with pytest.raises(errors.InputError, match="cannot be decrypted"):
        other.decrypt("not a token ✗")


def test_bad_keys(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="not a valid Fernet key"):
        SecretBox(b"too-short")
    empty = tmp_path / KEY_FILE
    empty.write_bytes(b"")
    with pytest.raises(errors.InputError, match="is empty"):
        load_or_create_key(empty)


def test_repr_hides_the_key(settings: Settings) -> None:
    box = SecretBox.from_settings(settings)
    key = (settings.data_dir / KEY_FILE).read_text().strip()
    assert key not in repr(box)
