"""What every worker command shares: ``--once`` or ``--worker``, then :func:`propdesk.jobs.worker.run`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from propdesk.jobs.worker import Job

R = TypeVar("R")


def run_job_command(
    once: bool,
    worker: bool,
    make_job: Callable[[], tuple[Job[R], float]],
    *,
    max_runs: int | None = None,
) -> None:
    """Exit 2 unless exactly one of ``--once``/``--worker`` is given; then run the job once, or as a
    worker until SIGTERM/Ctrl-C (or ``max_runs`` passes), printing each pass's line.

    ``make_job`` builds the job and its interval in seconds; it is called after the flags are checked
    so a wrong invocation touches no settings or database.
    """
    from propdesk.jobs.worker import run, stop_on_signals

    if once == worker:
        Console(stderr=True).print("[red]error:[/red] pass exactly one of --once or --worker")
        raise typer.Exit(2)
    job, interval = make_job()
    console = Console()
    with stop_on_signals(threading.Event()) as stop:
        run(job, interval=interval, stop=stop, max_runs=1 if once else max_runs, report=console.print)
