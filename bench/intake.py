"""Decision-action intake through HTTP on PostgreSQL, beside pgbench TPC-B on the same machine.

Run: ``.venv/bin/python bench/intake.py`` (about 80 s; ``--seconds`` per run, default 10).

What it does:

1. creates a fresh benchmark database (``propdesk_bench``), migrates it, creates a service token,
   17 started accounts and fresh quotes;
2. starts the production server, ``python -m propdesk serve`` (uvicorn, one worker unless
   ``--workers``), as a subprocess on a free port, so the server does not share the client's GIL;
3. drives it from client threads (one ``httpx.Client`` each) for ``--seconds`` per scenario, every
   request a new batch of ``--batch`` ``open_long`` actions (each one gated, filled and booked):
   * 1 client on its own account,
   * 16 clients on 16 accounts (one each: no lock contention),
   * 16 clients on 1 shared account (every request waits for the same account lock);
4. runs ``pgbench -i -s 10`` on a scratch database, then TPC-B for the same duration at 1 and 16
   clients (``-c N -j N``);
5. prints decision actions per second beside pgbench's tps and their ratio, then drops both
   databases and stops the server.

The server, PostgreSQL, pgbench and the clients share this machine's cores, as they would on a
single-box deployment; the figures are a capacity guide, not a latency SLA.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from glob import glob
from pathlib import Path

import httpx
import sqlalchemy as sa
from harness import PG_ADMIN_URL, scratch_database, server
from sqlalchemy.engine import make_url

from propdesk.model.ids import AccountId
from propdesk.model.market import Quote
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.context import ServiceContext
from propdesk.store import migrate
from propdesk.store.engine import create_engine_for
from propdesk.store.tables import decision_actions
from propdesk.store.uow import UnitOfWork

BENCH_DB = "propdesk_bench"
PGBENCH_DB = "propdesk_bench_pgbench"
SYMBOLS = {"AAPL": Decimal(100), "MSFT": Decimal(400), "NVDA": Decimal(120), "AMZN": Decimal(180)}
# A tiny quantity keeps positions far from every limit however many actions a run sends.
QTY = "0.01"


@dataclass(frozen=True)
class Fixture:
    token: str
    solo: list[str]  # one account per client
    shared: str  # one account for every client


def prepare(url: str, accounts: int) -> Fixture:
    migrate.upgrade(url)
    engine = create_engine_for(url)
    try:
        ctx = ServiceContext(engine=engine)
        overrides = {"maxQuoteAgeSeconds": 86_400}  # quotes are written once, before the runs
        ids = []
        for i in range(accounts + 1):
            row = lifecycle.create_account(
                ctx, lifecycle.NewAccount(overrides=overrides, idempotency_key=f"bench-{i}")
            )
            lifecycle.start(ctx, AccountId(row.id))
            ids.append(row.id)
        now = datetime.now(UTC) - timedelta(seconds=1)
        with UnitOfWork(engine) as uow:
            spread = Decimal("0.01")
            uow.prices.write_quotes(
                [Quote(symbol=s, time=now, bid=mid - spread, ask=mid + spread) for s, mid in SYMBOLS.items()],
                source="bench",
            )
            uow.commit()
        _, token = create_token(engine, role=Role.SERVICE, name="bench", clock=lambda: datetime.now(UTC))
        return Fixture(token=token, solo=ids[:accounts], shared=ids[accounts])
    finally:
        engine.dispose()


def stored_actions(url: str) -> Counter[str]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(decision_actions.c.status, sa.func.count()).group_by(decision_actions.c.status)
            ).all()
        return Counter({str(status): int(count) for status, count in rows})
    finally:
        engine.dispose()


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    label: str
    clients: int
    accounts: int
    seconds: float
    requests: int
    errors: int
    statuses: Counter[str]
    latencies: list[float]

    @property
    def actions(self) -> int:
        return sum(self.statuses.values())

    @property
    def actions_per_second(self) -> float:
        return self.actions / self.seconds

    def percentile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def drive(
    label: str, base: str, token: str, accounts: list[str], clients: int, seconds: float, batch: int
) -> Result:
    """``clients`` threads post new batches for ``seconds``; client i uses accounts[i % len]."""
    tallies = [Tally() for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(index: int) -> None:
        tally = tallies[index]
        account = accounts[index % len(accounts)]
        path = f"/api/v1/prop/accounts/{account}/decision-actions"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            http.get("/healthz")  # open the connection before the clock starts
            start.wait(timeout=60)
            n = 0
            while not stop.is_set():
                n += 1
                body = {
                    "decisionRunId": f"{label}-c{index}-r{n}",
                    "actions": [
                        {"decisionActionId": f"a{k}", "action": "open_long", "symbol": symbol, "qty": QTY}
                        for k, symbol in zip(range(batch), [*SYMBOLS] * batch, strict=False)
                    ],
                }
                sent = time.perf_counter()
                response = http.post(path, json=body)
                tally.latencies.append(time.perf_counter() - sent)
                tally.requests += 1
                if response.status_code != 200:
                    tally.errors += 1
                    continue
                tally.statuses.update(a["status"] for a in response.json()["actions"])

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    began = time.perf_counter()
    time.sleep(seconds)  # the measurement window, not a synchronization
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - began
    return Result(
        label=label,
        clients=clients,
        accounts=len(set(accounts)),
        seconds=elapsed,
        requests=sum(t.requests for t in tallies),
        errors=sum(t.errors for t in tallies),
        statuses=sum((t.statuses for t in tallies), Counter()),
        latencies=sorted(x for t in tallies for x in t.latencies),
    )


# --- pgbench ---------------------------------------------------------------------------------------


def find_pgbench() -> str:
    found = shutil.which("pgbench") or next(
        iter(sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    if found is None:
        raise SystemExit("pgbench not found on PATH or in /usr/lib/postgresql/*/bin")
    return found


def pgbench(binary: str, url: str, clients: int, seconds: float) -> float:
    """TPC-B tps (without initial connection time) at ``clients`` clients and threads."""
    parsed = make_url(url)
    target = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    command = [
        binary,
        *target,
        "-c",
        str(clients),
        "-j",
        str(clients),
        "-T",
        str(round(seconds)),
        parsed.database or "",
    ]
    out = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=seconds + 120
    ).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output:\n{out}")
    return float(match.group(1))


def pgbench_init(binary: str, url: str, scale: int) -> None:
    parsed = make_url(url)
    target = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    subprocess.run(
        [binary, *target, "-i", "-q", "-s", str(scale), parsed.database or ""],
        env=env,
        capture_output=True,
        check=True,
        timeout=300,
    )


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="duration of each run (default 10)")
    parser.add_argument("--clients", type=int, default=16, help="the concurrent client count (default 16)")
    parser.add_argument("--batch", type=int, default=1, help="actions per request (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    args = parser.parse_args()
    binary = find_pgbench()
    many = args.clients

    print(f"propdesk intake benchmark: {os.cpu_count()} CPUs, PostgreSQL at {make_url(PG_ADMIN_URL).host}")
    print(
        f"server: python -m propdesk serve --workers {args.workers}; {args.batch} open_long action(s) per request"
    )
    results: list[Result] = []
    with scratch_database(BENCH_DB) as url, tempfile.TemporaryDirectory() as tmp:
        fixture = prepare(url, many)
        # One token sends every request: lift its per-minute limit (6000 by default) so no 429 is timed.
        env = {**os.environ, "PROPDESK_DATABASE_URL": url, "PROPDESK_SERVICE_API_RATE_LIMIT": str(10**9)}
        with server(Path(tmp), env, workers=args.workers) as base:
            for label, clients, accounts in (
                ("1 client, 1 account", 1, fixture.solo[:1]),
                (f"{many} clients, {many} accounts", many, fixture.solo),
                (f"{many} clients, 1 shared account", many, [fixture.shared]),
            ):
                result = drive(label, base, fixture.token, accounts, clients, args.seconds, args.batch)
                results.append(result)
                print(
                    f"  ran {label}: {result.requests} requests, {result.errors} errors, "
                    f"{dict(result.statuses)} in {result.seconds:.1f} s"
                )
        stored = stored_actions(url)
        sent = sum(r.actions for r in results)
        assert sum(stored.values()) == sent, (stored, sent)

    with scratch_database(PGBENCH_DB) as pg_url:
        pgbench_init(binary, pg_url, scale=10)
        tps = {clients: pgbench(binary, pg_url, clients, args.seconds) for clients in (1, many)}

    print()
    print(f"{'scenario':<50}{'actions/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'pgbench tps':>13}{'ratio':>8}")
    for result in results:
        base_tps = tps[result.clients]
        print(
            f"{'HTTP intake, ' + result.label:<50}{result.actions_per_second:>11.1f}"
            f"{result.percentile(50):>9.1f}{result.percentile(99):>9.1f}"
            f"{base_tps:>13.1f}{result.actions_per_second / base_tps:>8.3f}"
        )
    print()
    print(f"pgbench: TPC-B, scale 10, -c N -j N -T {round(args.seconds)}, {binary}")
    print(
        "ratio = decision actions per second / pgbench TPC-B transactions per second at the same client count"
    )
    print(f"every action stored: {dict(stored)}")


if __name__ == "__main__":
    main()
