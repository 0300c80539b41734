from pathlib import Path

from typer.testing import CliRunner

from propdesk.cli import build_cli
from tests.served import free_port


def test_demo_runs_the_service_with_an_agent_and_ends_without_drift(tmp_path: Path) -> None:
    args = ["demo", "--exit", "--port", str(free_port()), "--database", str(tmp_path / "demo.db")]
    result = CliRunner().invoke(build_cli(), [*args, "--start", "2013-01-01", "--end", "2013-12-31"])
    assert result.exit_code == 0, result.output
    assert "decision actions:" in result.output
    assert "filled ×" in result.output
    assert "no drift" in result.output
    assert "/api/v1/prop/accounts/" in result.output
    assert "(Alpaca-compatible /v2): filled 10 NVDA at" in result.output
    assert "url_override=" in result.output


def test_demo_refuses_unknown_symbols(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_cli(), ["demo", "--exit", "--symbols", "NOPE", "--database", str(tmp_path / "d.db")]
    )
    assert result.exit_code == 2
    assert "unknown symbol(s) NOPE" in result.output
