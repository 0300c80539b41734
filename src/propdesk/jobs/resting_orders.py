"""The resting-order job: evaluate every account that has open orders, each in its own transaction.

A failure on one account is logged and the sweep goes on; re-running for the same horizon adds
nothing (the cursor has already passed every event). The sweep's figures go to the
``resting_orders`` heartbeat, including which accounts caught up on more events than
``orders_catch_up_notice`` (their fills may have been delayed).
"""

from __future__ import annotations

import logging
from datetime import datetime

from propdesk.jobs.worker import Job
from propdesk.model.ids import AccountId
from propdesk.services.context import ServiceContext
from propdesk.services.orders.evaluation import EvaluationSweep, accounts_with_open_orders, evaluate_account
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)
HEARTBEAT = "resting_orders"
NAME = "resting orders"


def evaluate_all(ctx: ServiceContext, *, until: datetime | None = None) -> EvaluationSweep:
    horizon = until or ctx.clock()
    account_ids = accounts_with_open_orders(ctx)
    ticks = fills = 0
    failed: list[str] = []
    delayed: list[str] = []
    for account_id in account_ids:
        try:
            result = evaluate_account(ctx, AccountId(account_id), until=horizon)
        except Exception:
            failed.append(account_id)
            log.exception("resting-order evaluation failed for account %s", account_id)
            continue
        ticks += result.ticks
        fills += result.fills
        if result.delayed:
            delayed.append(account_id)
    sweep = EvaluationSweep(len(account_ids), ticks, fills, failed, delayed)
    with UnitOfWork(ctx.engine) as uow:
        uow.heartbeats.beat(
            HEARTBEAT,
            ctx.clock(),
            {
                "accounts": sweep.accounts,
                "ticks": ticks,
                "fills": fills,
                "failed": failed,
                "delayed": delayed,
            },
        )
        uow.commit()
    return sweep


def describe(sweep: EvaluationSweep) -> str:
    """One line of what a sweep did (``propdesk orders`` prints it)."""
    return (
        f"{sweep.accounts} account(s) with open orders: {sweep.ticks} market event(s), "
        f"{sweep.fills} fill(s), {len(sweep.failed)} failed"
        + (f", catching up: {', '.join(sweep.delayed)}" if sweep.delayed else "")
    )


def idle(sweep: EvaluationSweep) -> bool:
    """Nothing happened: no market event, fill, failure or catch-up."""
    return not (sweep.ticks or sweep.fills or sweep.failed or sweep.delayed)


def job(ctx: ServiceContext) -> Job[EvaluationSweep]:
    """The resting-order sweep as a worker job (see :mod:`propdesk.jobs.worker`)."""
    return Job(NAME, lambda: evaluate_all(ctx), describe, idle)
