"""The token key: configured hex wins; otherwise a private file made once and kept."""

from __future__ import annotations

import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cairn.core.errors import StorageUnavailable, ValidationFailed
from cairn.store.keys import KEY_BYTES, token_key

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@posix_only
def test_file_is_made_once_private_and_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = token_key(home)
    path = home / "secret.key"
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == key
    assert token_key(home) == key
    assert [p.name for p in home.iterdir()] == ["secret.key"]  # no drafts left behind


def test_racing_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: token_key(tmp_path), range(16)))
    assert len(keys) == 1


def test_configured_key_wins(tmp_path: Path) -> None:
    configured = "0f" * 40
    assert token_key(tmp_path, configured=configured) == bytes.fromhex(configured)
    assert token_key(None, configured=f" {configured}\n") == bytes.fromhex(configured)
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize("configured", ["ab" * 31, "not hex at all", "abc"])
def test_weak_or_garbled_configured_key_is_refused(configured: str) -> None:
    with pytest.raises(ValidationFailed, match="CAIRN_SECRET_KEY") as caught:
        token_key(None, configured=configured)
    assert configured not in caught.value.diagnostics()


@posix_only
def test_loose_permissions_are_refused(tmp_path: Path) -> None:
    token_key(tmp_path)
    (tmp_path / "secret.key").chmod(0o644)
    with pytest.raises(StorageUnavailable, match="other users") as caught:
        token_key(tmp_path)
    assert "chmod 600" in caught.value.diagnostics()


@posix_only
def test_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(StorageUnavailable, match="5 bytes"):
        token_key(tmp_path)


def test_no_folder_and_no_configured_key(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="no folder") as caught:
        token_key(None)
    assert "CAIRN_SECRET_KEY" in caught.value.diagnostics()


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageUnavailable, match="cannot read or create"):
        token_key(tmp_path / "file" / "home")
