"""``propdesk demo`` (the service with an agent) and ``propdesk backtest`` (the kernel in memory)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

Symbols = Annotated[str, typer.Option(help="Comma-separated shipped symbols (NVDA, ORCL, YHOO).")]
Start = Annotated[str, typer.Option(help="First day of the replay (YYYY-MM-DD).")]
End = Annotated[str, typer.Option(help="Last day of the replay (YYYY-MM-DD).")]


def _symbols(text: str) -> list[str]:
    return [s.strip().upper() for s in text.split(",") if s.strip()]


def register(cli: typer.Typer) -> None:
    @cli.command()
    def demo(
        symbols: Symbols = "NVDA,ORCL,YHOO",
        start: Start = "2012-01-01",
        end: End = "2014-12-31",
        database: Annotated[Path, typer.Option(help="SQLite file (recreated).")] = Path("propdesk-demo.db"),
        port: Annotated[int, typer.Option(help="API port.")] = 8000,
        exit_after: Annotated[
            bool, typer.Option("--exit", help="Stop after the replay instead of serving.")
        ] = False,
    ) -> None:
        """Run the service on SQLite with the seed audition account and a demo agent trading replayed prices."""
        from propdesk.demo.run import DemoOptions, run

        console = Console()
        try:
            run(
                console,
                DemoOptions(
                    database=database,
                    symbols=_symbols(symbols),
                    start=date.fromisoformat(start),
                    end=date.fromisoformat(end),
                    port=port,
                    keep_serving=not exit_after,
                ),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc

    @cli.command()
    def backtest(
        symbols: Symbols = "NVDA,ORCL,YHOO", start: Start = "2010-01-01", end: End = "2014-12-31"
    ) -> None:
        """Replay real daily bars through the account kernel in memory (no database)."""
        from propdesk.backtest.demo import run_demo

        console = Console()
        try:
            run_demo(
                console,
                symbols=_symbols(symbols),
                start=date.fromisoformat(start),
                end=date.fromisoformat(end),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
