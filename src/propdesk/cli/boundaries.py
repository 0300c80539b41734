"""``propdesk boundaries``: roll prop accounts' rule states over their packs' day boundaries."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    @cli.command()
    def boundaries(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Run forever.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes (worker).")] = 60.0,
    ) -> None:
        """Close trading days: EOD trailing floors, day locks ending, end-of-day pass checks."""
        from propdesk.bootstrap import build_context
        from propdesk.jobs.boundaries import advance_all
        from propdesk.settings import load_settings

        if once == worker:
            Console(stderr=True).print("[red]error:[/red] pass exactly one of --once or --worker")
            raise typer.Exit(2)
        ctx = build_context(load_settings())
        console = Console()
        while True:
            started = time.monotonic()
            result = advance_all(ctx)
            console.print(
                f"{result.accounts} account(s) tracked: {result.rolled} rolled, {len(result.failed)} failed"
            )
            if once:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
