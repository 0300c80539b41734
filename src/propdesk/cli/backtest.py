"""``propdesk backtest``: real daily bars through the account kernel in memory (no database)."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console

from propdesk.cli._replay_options import End, Start, Symbols, symbols_of


def register(cli: typer.Typer) -> None:
    @cli.command()
    def backtest(
        symbols: Symbols = "NVDA,ORCL,YHOO", start: Start = "2010-01-01", end: End = "2014-12-31"
    ) -> None:
        """Replay real daily bars through the account kernel in memory (no database)."""
        from propdesk.backtest.report import run_report

        console = Console()
        try:
            run_report(
                console,
                symbols=symbols_of(symbols),
                start=date.fromisoformat(start),
                end=date.fromisoformat(end),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
