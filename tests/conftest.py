"""Database fixtures: every store and service test runs on SQLite and on PostgreSQL.

``db_url`` is parametrized over both backends. SQLite tests get a private file copied from a
template migrated once per session. PostgreSQL tests share one database per xdist worker
(``propdesk_test_<worker>``), dropped, recreated and migrated with the Alembic migrations at
session start, emptied before each test and dropped when the session ends. If PostgreSQL is unreachable its tests are skipped,
except under ``CI=true``, where they fail: CI must not pass by skipping the real database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from propdesk.store import migrate
from propdesk.store.engine import create_engine_for
from tests import fuzz_budget
from tests.db import (
    PG_ADMIN_URL,
    drop_postgres_database,
    empty_postgres_tables,
    postgres_unavailable,
    recreate_postgres_database,
    worker_id,
)


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable, or fail it under CI=true."""
    reason = postgres_unavailable()
    if reason is None:
        return
    message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """This process's test database, created and migrated to head once, dropped at the end."""
    require_postgres()
    name = f"propdesk_test_{worker_id()}"
    url = recreate_postgres_database(name)
    migrate.upgrade(url)
    yield url
    drop_postgres_database(name)


@pytest.fixture
def postgres_url(postgres_session_url: str) -> str:
    """The PostgreSQL test database with every table empty."""
    empty_postgres_tables(postgres_session_url)
    return postgres_session_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; tests get copies (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    # Disposing the engine checkpointed the WAL; the main file alone is the whole database.
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A private, migrated SQLite database file for one test."""
    path = tmp_path / "propdesk.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database on each backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    name = f"propdesk_test_{worker_id()}_empty"
    yield recreate_postgres_database(name)
    drop_postgres_database(name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` built by the production factory."""
    built = create_engine_for(db_url)
    yield built
    built.dispose()


# --- the schemathesis request budget (see tests/fuzz_budget.py) -----------------------------------


class _FuzzRun:
    """What this process saw of the fuzz module: filtered or skipped items, worker counts."""

    filtered = False
    skipped = False
    ran = False
    worker_requests = 0


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(item.nodeid.startswith(fuzz_budget.MODULE) for item in items):
        _FuzzRun.filtered = True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith(fuzz_budget.MODULE):
        _FuzzRun.ran = True
        _FuzzRun.skipped = _FuzzRun.skipped or report.skipped


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: add up what each worker counted."""
    output = getattr(node, "workeroutput", {})
    _FuzzRun.worker_requests += output.get("fuzz_requests", 0)
    _FuzzRun.filtered = _FuzzRun.filtered or output.get("fuzz_filtered", False)


def _fuzz_total() -> int:
    return fuzz_budget.requests + _FuzzRun.worker_requests


def _fuzz_budget_applies(config: pytest.Config) -> bool:
    whole = not any("::" in arg for arg in config.args)
    return _FuzzRun.ran and whole and not _FuzzRun.filtered and not _FuzzRun.skipped


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: report to the controller
        workeroutput["fuzz_requests"] = fuzz_budget.requests
        workeroutput["fuzz_filtered"] = _FuzzRun.filtered
        return
    if _fuzz_budget_applies(session.config) and _fuzz_total() < fuzz_budget.MINIMUM:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if getattr(config, "workeroutput", None) is not None or not _FuzzRun.ran:
        return
    total = _fuzz_total()
    line = f"schemathesis: {total} generated requests"
    if not _fuzz_budget_applies(config):
        terminalreporter.write_line(f"{line} (part of the module ran: budget not checked)")
    elif total < fuzz_budget.MINIMUM:
        terminalreporter.write_line(f"{line}, FAILED: fewer than {fuzz_budget.MINIMUM}", red=True, bold=True)
    else:
        terminalreporter.write_line(f"{line} (at least {fuzz_budget.MINIMUM})", green=True)
