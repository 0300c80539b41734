from typer.testing import CliRunner

from propdesk.cli import build_cli


def test_backtest_replays_shipped_bars_and_the_ledger_reproduces_the_account() -> None:
    result = CliRunner().invoke(build_cli(), ["backtest", "--start", "2012-01-01", "--end", "2013-12-31"])
    assert result.exit_code == 0, result.output
    assert "Equity path" in result.output
    assert "Final account (active)" in result.output
    assert "reproduces the account exactly" in result.output
    assert "DRIFT" not in result.output


def test_backtest_refuses_an_unknown_symbol_with_a_clear_message() -> None:
    result = CliRunner().invoke(build_cli(), ["backtest", "--symbols", "NOPE"])
    assert result.exit_code == 2
    assert "unknown symbol(s) NOPE" in result.output
