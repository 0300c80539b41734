"""``propdesk mtm``: mark every open account to market, once or as a worker."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    @cli.command()
    def mtm(
        once: Annotated[bool, typer.Option("--once", help="One sweep, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Sweep forever.")] = False,
        interval: Annotated[float | None, typer.Option(help="Seconds between sweeps (worker).")] = None,
        sweeps: Annotated[int | None, typer.Option(help="Stop the worker after this many sweeps.")] = None,
    ) -> None:
        """Reprice positions, persist marks by the ledger cadence, auto-liquidate breaches."""
        from propdesk.bootstrap import build_context
        from propdesk.services.marking import mark_all
        from propdesk.settings import load_settings

        if once == worker:
            Console(stderr=True).print("[red]error:[/red] pass exactly one of --once or --worker")
            raise typer.Exit(2)
        ctx = build_context(load_settings())
        pause = interval if interval is not None else ctx.settings.mtm_interval_seconds
        console = Console()
        done = 0
        while True:
            started = time.monotonic()
            result = mark_all(ctx)
            done += 1
            console.print(
                f"marked {result.accounts} account(s): {result.persisted} mark row(s), "
                f"{result.liquidated} liquidated, {len(result.failed)} failed"
            )
            if once or (sweeps is not None and done >= sweeps):
                return
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
