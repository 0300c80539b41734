"""``propdesk boundaries``: roll prop accounts' rule states over their packs' day boundaries.

The job is :mod:`propdesk.jobs.boundaries`, the loop :mod:`propdesk.jobs.worker`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from propdesk.jobs.boundaries import BoundaryResult
    from propdesk.jobs.worker import Job


def register(cli: typer.Typer) -> None:
    @cli.command()
    def boundaries(
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        worker: Annotated[bool, typer.Option("--worker", help="Run forever.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes (worker).")] = 60.0,
    ) -> None:
        """Close trading days: EOD trailing floors, day locks ending, end-of-day pass checks."""
        from propdesk.cli._jobs import run_job_command

        def make() -> tuple[Job[BoundaryResult], float]:
            from propdesk.bootstrap import build_context
            from propdesk.jobs import boundaries as boundary_job
            from propdesk.settings import load_settings

            return boundary_job.job(build_context(load_settings())), interval

        run_job_command(once, worker, make)
