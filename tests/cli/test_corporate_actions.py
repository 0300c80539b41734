"""``propdesk data corporate-actions``: import the shipped file twice, refuse a bad one, run a date."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.marketdata.files import shipped_file


def test_import_list_run_and_a_refused_file(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", sqlite_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(build_cli(), ["data", "corporate-actions", *args])
        return result.exit_code, " ".join(result.output.split())

    shipped = str(shipped_file("corporate-actions.csv"))
    assert invoke("import", shipped) == (0, "23 action(s) read, 23 new")
    assert invoke("import", shipped) == (0, "23 action(s) read, 0 new")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "type,symbol,ex_date,payable_date,cash,old_rate,new_rate,new_symbol\nsplit,X,2020-01-01,,,1,,\n"
    )
    code, out = invoke("import", str(bad))
    assert code == 1
    assert "line 2: a split needs new_rate" in out
    code, out = invoke("list")
    assert code == 0
    assert "2007-09-11 split NVDA 3-for-2" in out
    assert invoke("run", "--date", "2007-09-11") == (0, "0 application(s) on 2007-09-11")
