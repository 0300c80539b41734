"""``propdesk orders``: run the resting-order evaluator (fills, expiries, catch-up after downtime)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console


def register(cli: typer.Typer) -> None:
    @cli.command()
    def orders(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Run forever.")] = False,
        interval: Annotated[
            float | None, typer.Option(help="Seconds between passes (worker); default from settings.")
        ] = None,
    ) -> None:
        """Evaluate resting orders against new quotes and bars; catches up after downtime."""
        from propdesk.bootstrap import build_context
        from propdesk.jobs.resting_orders import evaluate_all
        from propdesk.settings import load_settings

        if once == worker:
            Console(stderr=True).print("[red]error:[/red] pass exactly one of --once or --worker")
            raise typer.Exit(2)
        settings = load_settings()
        ctx = build_context(settings)
        pause = interval if interval is not None else settings.orders_interval_seconds
        console = Console()
        while True:
            started = time.monotonic()
            sweep = evaluate_all(ctx)
            console.print(
                f"{sweep.accounts} account(s) with open orders: {sweep.ticks} market event(s), "
                f"{sweep.fills} fill(s), {len(sweep.failed)} failed"
                + (f", catching up: {', '.join(sweep.delayed)}" if sweep.delayed else "")
            )
            if once:
                return
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
