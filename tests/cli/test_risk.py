"""``propdesk evaluate`` and ``propdesk risk …`` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from propdesk.cli import build_cli

TRADES = """time,symbol,side,qty,price,fee
2026-03-02T09:00:00-06:00,ES,buy,1,5000,2.5
2026-03-02T09:30:00-06:00,ES,sell,1,5010,2.5
2026-03-03T09:00:00-06:00,ES,buy,2,5000,5
2026-03-03T09:30:00-06:00,ES,sell,2,4990,5
2026-03-04T09:00:00-06:00,MES,buy,3,5000,1.5
2026-03-04T09:30:00-06:00,MES,sell,3,5100,1.5
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), list(args))
    return result.exit_code, result.output


def test_evaluate_replays_a_trades_file_through_a_pack(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text(TRADES)
    code, output = run("evaluate", str(trades), "--pack", "topstep-50k-combine")
    assert code == 0, output
    assert "2026-03-03" in output
    assert "daily_loss" in output  # −1,010 on day two hit the 1,000 daily loss limit
    assert "48,495.00" in output  # the MLL after day one's 495 (fees count)
    assert "Outcome: still active" in output


def test_evaluate_with_a_custom_pack_file_and_bad_inputs(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text(TRADES)
    pack = tmp_path / "mine.yaml"
    pack.write_text(
        'id: mine\nversion: "1"\nname: Mine\nfirm: me\nplan: p\nphase: personal\neffective_date: 2026-01-01\n'
        'sources: ["https://example.com"]\nstarting_balance: 50000\n'
        'day_boundary: {timezone: America/Chicago, time: "17:00"}\n'
        "max_loss: {reference: intraday_equity_trailing, amount: 1000}\n"
    )
    code, output = run("evaluate", str(trades), "--pack-file", str(pack))
    assert code == 0, output
    assert "FAILED" in output
    assert "max_loss" in output
    code, output = run("evaluate", str(trades))
    assert (code, "give exactly one of --pack or --pack-file" in output) == (2, True)
    code, output = run("evaluate", str(tmp_path / "missing.csv"), "--pack", "topstep-50k-combine")
    assert code == 2
    assert "error:" in output


def test_risk_validate_reports_problems_with_their_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x1\nversion: 1\n")
    code, output = run("risk", "validate", str(bad))
    assert code == 2
    assert "starting_balance: Field required" in output
    code, output = run("risk", "packs")
    assert code == 0
    assert "topstep-50k-combine@1" in output
    code, output = run("risk", "packs", "--show", "ftmo-2step-100k")
    assert code == 0
    assert json.loads(output)["day_boundary"]["timezone"] == "Europe/Prague"


def test_risk_size_kelly_and_ruin() -> None:
    code, output = run(
        "risk", "size", "--capital", "500", "--risk", "0.01", "--stop", "0.50", "--point-value", "10",
        "--win-rate", "0.55", "--payoff", "2.0", "--json",
    )  # fmt: skip
    assert code == 0, output
    result = json.loads(output)
    assert (result["contracts"], result["level"], result["kelly"]["f_star"]) == (1, "safe", "0.325")
    code, output = run(
        "risk", "size", "--capital", "500", "--risk", "0.10", "--stop", "0.50", "--point-value", "10",
        "--win-rate", "0.40", "--payoff", "1.5",
    )  # fmt: skip
    assert code == 0
    assert "CRITICAL — BLOCKED" in output
    code, output = run("risk", "kelly", "--win-rate", "0.55", "--payoff", "2", "--risk", "0.4")
    assert code == 0
    assert "f* = 0.325" in output
    assert "over-betting" in output
    code, output = run(
        "risk", "ruin", "--win-rate", "0.55", "--risk", "0.1", "--ruin-level", "0.4", "--target", "0.6"
    )
    assert code == 0
    assert "Two-barrier" in output
    code, output = run(
        "risk", "size", "--capital", "five", "--risk", "0.1", "--stop", "1", "--point-value", "5"
    )
    assert code == 2
    assert "capital: 'five' is not a decimal number" in output


def test_risk_challenge_parametric_and_bootstrapped(tmp_path: Path) -> None:
    code, output = run(
        "risk", "challenge", "--pack", "topstep-50k-combine", "--win-rate", "0.5", "--payoff", "1.5",
        "--risk", "250", "--paths", "2000", "--json",
    )  # fmt: skip
    assert code == 0, output
    result = json.loads(output)
    assert 0.7 < result["p_pass"] < 0.95
    assert result["paths"] == 2000
    trades = tmp_path / "trades.csv"
    trades.write_text(TRADES)
    code, output = run(
        "risk", "challenge", "--pack", "topstep-50k-combine", "--bootstrap", str(trades), "--paths", "500"
    )
    assert code == 0, output
    assert "bootstrapping 3 closed trades" in output
    assert "P(pass)" in output
    code, output = run("risk", "challenge", "--pack", "topstep-50k-combine", "--paths", "500")
    assert code == 2
    assert "needs win_rate and payoff" in output
