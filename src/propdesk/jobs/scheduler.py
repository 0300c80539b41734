"""The embedded scheduler: a background thread of ``propdesk serve`` that runs the due daily jobs.

Every ``scheduler_poll_seconds`` the thread renews a lease row (``job_leases``, name
``scheduler``) and, while it holds it, runs what :func:`propdesk.jobs.runs.run_due` finds due —
missed days first, in order. The lease lasts three polls: a second server finds it held and only
waits; if the holder dies, another takes the lease over once it has expired. Stopping the thread
(the app's shutdown) lets the current job finish and releases the lease.

``PROPDESK_SCHEDULER=off`` leaves the schedule to ``propdesk beat`` and ``propdesk worker``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from propdesk.jobs import registry
from propdesk.jobs.runs import run_due
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import open_tx
from propdesk.store.job_runs import JobRunRepository

log = logging.getLogger(__name__)

LEASE = "scheduler"


def holder_name() -> str:
    """Who holds a lease: host, process and a random suffix (two schedulers in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take_lease(ctx: ServiceContext, holder: str, ttl: timedelta, name: str = LEASE) -> bool:
    """Take or renew lease ``name`` for ``ttl``; False while another live holder has it."""
    now = ctx.clock()
    with open_tx(ctx.engine) as uow:
        return JobRunRepository(uow.connection).take_lease(name, holder, now, now + ttl)


def release_lease(ctx: ServiceContext, holder: str, name: str = LEASE) -> None:
    with open_tx(ctx.engine) as uow:
        JobRunRepository(uow.connection).release_lease(name, holder)


class Scheduler:
    """``start()`` the thread, ``stop()`` it; :meth:`tick` is one pass (tests call it directly)."""

    def __init__(self, ctx: ServiceContext, *, poll_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.poll = poll_seconds if poll_seconds is not None else ctx.settings.scheduler_poll_seconds
        self.holder = holder_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=3 * self.poll)

    def tick(self) -> int:
        """Renew the lease and run what is due; how many runs were made (0 without the lease)."""
        if not take_lease(self.ctx, self.holder, self.ttl):
            return 0
        return len(run_due(self.ctx))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("scheduler pass failed; trying again in %s s", self.poll)
            self._stop.wait(self.poll)

    def start(self) -> None:
        """Start the thread. The calendars are built here, before the server answers its first
        request, so that building them (a second of CPU) never stalls requests already served."""
        if self._thread is not None:
            return
        for job in registry.JOBS:
            job.due_at(self.ctx.clock().date())
        self._thread = threading.Thread(target=self._loop, name="propdesk-scheduler", daemon=True)
        self._thread.start()
        log.info("embedded scheduler started (%s)", self.holder)

    def stop(self, timeout: float | None = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            release_lease(self.ctx, self.holder)
        except Exception:
            log.exception("could not release the scheduler lease")
