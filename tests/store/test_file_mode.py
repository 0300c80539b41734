"""SQLite files created by propdesk are readable by their owner only (issue 14, hole 10)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from propdesk.store import migrate
from propdesk.store.engine import create_engine_for


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask 022, under which a plain sqlite3.connect creates a world-readable file."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_and_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()


@pytest.mark.usefixtures("open_umask")
def test_db_upgrade_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "upgraded.db"
    path.parent.mkdir()
    migrate.upgrade(f"sqlite:///{path}")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o755  # only the files propdesk creates, never the directory


@pytest.mark.usefixtures("open_umask")
def test_an_existing_file_keeps_its_mode_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o644)
    with caplog.at_level(logging.WARNING, logger="propdesk.store.engine"):
        create_engine_for(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o644
    assert "mode 644" in caplog.text
