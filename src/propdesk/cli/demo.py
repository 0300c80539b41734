"""``propdesk demo``: the service with an agent trading replayed prices (``propdesk backtest`` runs
the kernel in memory, :mod:`propdesk.cli.backtest`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from propdesk.cli._replay_options import End, Start, Symbols, symbols_of


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
                    symbols=symbols_of(symbols),
                    start=date.fromisoformat(start),
                    end=date.fromisoformat(end),
                    port=port,
                    keep_serving=not exit_after,
                ),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
