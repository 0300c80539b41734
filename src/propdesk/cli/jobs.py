"""``propdesk jobs list|run``, ``propdesk worker`` and ``propdesk beat``: the daily jobs.

``jobs list`` prints each registered job with its schedule, its last run and result; ``jobs run
NAME [--date YYYY-MM-DD] [--force]`` runs one for a trading date (by default the latest session
whose run time has passed), once: a completed (job, date) is not run again unless forced.
``worker`` and ``beat`` run the same jobs on Celery with Redis as broker
(:mod:`propdesk.jobs.celery_app`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        Console(stderr=True).print(f"[red]error:[/red] --date must be YYYY-MM-DD, got {value!r}")
        raise typer.Exit(2) from None


def register(cli: typer.Typer) -> None:
    jobs = typer.Typer(
        help="Daily jobs: list them with their last run, run one for a date.", no_args_is_help=True
    )
    cli.add_typer(jobs, name="jobs")

    @jobs.command("list")
    def list_jobs() -> None:
        """Each daily job: schedule, next run, last run and its result."""
        from propdesk.bootstrap import build_context
        from propdesk.jobs.runs import statuses
        from propdesk.settings import load_settings

        table = Table("job", "schedule", "next", "last date", "status", "result")
        for status in statuses(build_context(load_settings())):
            last = status.last
            table.add_row(
                status.name,
                status.schedule,
                "" if status.next_due is None else status.next_due.isoformat(timespec="minutes"),
                "" if last is None else last.trading_date.isoformat(),
                "never" if last is None else last.status,
                "" if last is None or last.result is None else json.dumps(last.result, sort_keys=True),
            )
        Console(width=200).print(table)

    @jobs.command("run")
    def run(
        name: Annotated[str, typer.Argument(help="The job's name (see `propdesk jobs list`).")],
        on: Annotated[
            str | None, typer.Option("--date", help="Trading date YYYY-MM-DD (default: the latest due).")
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Run again even if it completed.")] = False,
    ) -> None:
        """Run one daily job for one trading date (once: a completed run is skipped unless --force)."""
        from propdesk.bootstrap import build_context
        from propdesk.jobs import registry
        from propdesk.jobs.runs import latest_due_date, run_job
        from propdesk.settings import load_settings

        err = Console(stderr=True)
        if name not in registry.names():
            err.print(f"[red]error:[/red] unknown job {name!r}; known: {', '.join(registry.names())}")
            raise typer.Exit(2)
        wanted = _date(on)
        job = registry.get(name)
        if wanted is not None and job.due_at(wanted) is None:
            err.print(f"[red]error:[/red] {wanted} is not a trading day of {job.calendar}")
            raise typer.Exit(2)
        ctx = build_context(load_settings())
        day = wanted or latest_due_date(ctx, job)
        outcome = run_job(ctx, name, day, force=force)
        Console().print(f"{name} {day}: {outcome.status} {json.dumps(outcome.result, sort_keys=True)}")
        if outcome.status == "failed":
            raise typer.Exit(1)

    @cli.command()
    def worker(
        concurrency: Annotated[int, typer.Option(help="Tasks run at once (processes).")] = 1,
        pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
        hostname: Annotated[str | None, typer.Option(help="The worker's node name.")] = None,
    ) -> None:
        """A Celery worker for the daily jobs (broker PROPDESK_REDIS_URL, default local Redis)."""
        from propdesk.jobs.celery_app import create_celery
        from propdesk.settings import load_settings

        app = create_celery(load_settings())
        argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", "--loglevel=INFO"]
        if hostname:
            argv.append(f"--hostname={hostname}")
        app.worker_main(argv)

    @cli.command()
    def beat() -> None:
        """Celery beat: sends each due daily job (missed days first) to the workers."""
        from propdesk.jobs.celery_app import create_celery
        from propdesk.settings import load_settings

        create_celery(load_settings()).start(["beat", "--loglevel=INFO"])
