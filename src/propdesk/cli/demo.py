"""``propdesk demo``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    @cli.command()
    def demo(
        symbols: Annotated[
            str, typer.Option(help="Comma-separated shipped symbols to trade.")
        ] = "NVDA,ORCL,YHOO",
        start: Annotated[str, typer.Option(help="First day of the replay (YYYY-MM-DD).")] = "2010-01-01",
        end: Annotated[str, typer.Option(help="Last day of the replay (YYYY-MM-DD).")] = "2014-12-31",
    ) -> None:
        """Replay real daily bars through the account kernel for a seed-default audition account."""
        from propdesk.backtest.demo import run_demo

        console = Console()
        try:
            run_demo(
                console,
                symbols=[s.strip().upper() for s in symbols.split(",") if s.strip()],
                start=date.fromisoformat(start),
                end=date.fromisoformat(end),
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
