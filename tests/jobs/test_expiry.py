"""The expiry job: a run stopped part-way resumes with the accounts not yet settled and ends
where one clean run ends; ``propdesk expiry --date`` runs it once and prints what it did."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from propdesk.cli import build_cli
from propdesk.jobs.expiry import describe, expiry_job
from propdesk.model.ids import AccountId
from propdesk.services.daily import expiry
from tests.services.daily.desk import AFTER, CALL, DAY, START, Desk


def test_a_run_killed_mid_way_resumes_and_ends_as_one_clean_run(
    desk: Desk,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [desk.account_id, desk.open_account(), desk.open_account()]
    for account_id in ids:
        desk.hold(CALL, "1", "5", account_id=account_id)
    desk.daily_bar("AAPL", DAY, "150", "160")
    settle = expiry._settle_account
    calls: list[AccountId] = []

    def dies_on_the_second(*args: object) -> None:
        calls.append(args[1])  # type: ignore[arg-type]
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed
        settle(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(expiry, "_settle_account", dies_on_the_second)
    desk.clock.current = AFTER
    with pytest.raises(KeyboardInterrupt):
        expiry_job(desk.ctx, DAY)
    monkeypatch.setattr(expiry, "_settle_account", settle)
    done, *rest = sorted(ids)
    assert CALL not in desk.state(done).positions
    assert all(CALL in desk.state(a).positions for a in rest)
    first_seq = desk.state(done).seq
    report = expiry_job(desk.ctx, DAY)
    assert sorted(report.accounts_settled) == rest
    assert desk.state(done).seq == first_seq
    for account_id in ids:
        after = desk.state(account_id)
        assert (after.positions["AAPL"].qty, after.cash) == (Decimal(100), START - 500 - 15_000)
    assert describe(report) == f"expiry {DAY}: 2 account(s), 2 exercised, 0 assigned, 0 expired, 0 failed"


def test_the_cli_runs_the_job_for_a_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(build_cli(), ["expiry", "--date", "2020-01-17"])
    assert result.exit_code == 0, result.output
    assert "expiry 2020-01-17: 0 account(s)" in result.output
    assert CliRunner().invoke(build_cli(), ["expiry", "--date", "17/01/2020"]).exit_code == 2
    assert CliRunner().invoke(build_cli(), ["expiry"]).exit_code == 2
