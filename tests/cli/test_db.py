from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from propdesk.cli import build_cli


def test_db_upgrade_migrates_the_configured_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("PROPDESK_DATABASE_URL", url)
    result = CliRunner().invoke(build_cli(), ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"accounts", "ledger_events", "balances", "alembic_version"} <= names
