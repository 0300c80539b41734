"""``propdesk mtm``: mark every open account to market, once or as a worker.

The job is :mod:`propdesk.jobs.marking`, the loop :mod:`propdesk.jobs.worker`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from propdesk.jobs.worker import Job
    from propdesk.services.prop.marking import SweepResult


def register(cli: typer.Typer) -> None:
    @cli.command()
    def mtm(
        once: Annotated[bool, typer.Option("--once", help="One sweep, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Sweep forever.")] = False,
        interval: Annotated[float | None, typer.Option(help="Seconds between sweeps (worker).")] = None,
        sweeps: Annotated[int | None, typer.Option(help="Stop the worker after this many sweeps.")] = None,
    ) -> None:
        """Reprice positions, persist marks by the ledger cadence, auto-liquidate breaches."""
        from propdesk.cli._jobs import run_job_command

        def make() -> tuple[Job[SweepResult], float]:
            from propdesk.bootstrap import build_context
            from propdesk.jobs import marking
            from propdesk.settings import load_settings

            ctx = build_context(load_settings())
            pause = interval if interval is not None else ctx.settings.mtm_interval_seconds
            return marking.job(ctx), pause

        run_job_command(once, worker, make, max_runs=sweeps)
