"""``propdesk orders``: run the resting-order worker (fills, expiries, catch-up after downtime).

The job is :mod:`propdesk.jobs.resting_orders`, the loop :mod:`propdesk.jobs.worker`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from propdesk.jobs.worker import Job
    from propdesk.services.orders.evaluation import EvaluationSweep


def register(cli: typer.Typer) -> None:
    @cli.command("orders")
    def orders(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Run forever.")] = False,
        interval: Annotated[
            float | None, typer.Option(help="Seconds between passes (worker); default from settings.")
        ] = None,
    ) -> None:
        """Evaluate resting orders against new quotes and bars; catches up after downtime."""
        from propdesk.cli._jobs import run_job_command

        def make() -> tuple[Job[EvaluationSweep], float]:
            from propdesk.bootstrap import build_context
            from propdesk.jobs import resting_orders
            from propdesk.settings import load_settings

            settings = load_settings()
            pause = interval if interval is not None else settings.orders_interval_seconds
            return resting_orders.job(build_context(settings)), pause

        run_job_command(once, worker, make)
