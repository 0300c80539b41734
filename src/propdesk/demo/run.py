"""The demo: a fresh SQLite database, shipped bars replayed as quotes, the API on a port, an agent.

Everything runs on a replay clock, so quotes are "fresh" on the replayed day and the whole
2012–2014 stretch takes seconds. The API server keeps serving afterwards so a person can look
around with the printed token.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table

from propdesk.api.app import create_app
from propdesk.backtest.report import account_figures
from propdesk.demo.agent import DemoAgent
from propdesk.marketdata.clock import ReplayClock
from propdesk.marketdata.files import shipped_daily_files
from propdesk.marketdata.replay_feed import ReplayFeed
from propdesk.model.ids import AccountId, UserId, uuid_ids
from propdesk.model.market import Quote
from propdesk.services.access import api_keys
from propdesk.services.access.tokens import Role, create_token
from propdesk.services.accounts import lifecycle
from propdesk.services.accounts.commands import recompute
from propdesk.services.alpaca import paper_accounts
from propdesk.services.context import ServiceContext
from propdesk.services.market.prices import import_bar_file
from propdesk.services.prop import marking, views
from propdesk.settings import Settings
from propdesk.store import migrate
from propdesk.store.engine import create_engine_for


@dataclass(frozen=True)
class DemoOptions:
    database: Path
    symbols: Sequence[str]
    start: date
    end: date
    host: str = "127.0.0.1"
    port: int = 8000
    keep_serving: bool = True


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _serve(ctx: ServiceContext, host: str, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="propdesk-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API server did not start on {host}:{port}")
        time.sleep(0.05)
    return server


def run(console: Console, options: DemoOptions) -> None:
    files = shipped_daily_files(options.symbols)
    if not _port_free(options.host, options.port):
        raise ValueError(f"port {options.port} is in use; pass --port")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{options.database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{options.database}"
    migrate.upgrade(url)
    engine = create_engine_for(url)
    clock = ReplayClock(datetime.combine(options.start, dtime(0), UTC))
    ctx = ServiceContext(engine=engine, settings=Settings(database_url=url), clock=clock, ids=uuid_ids)

    with console.status("importing the shipped daily bars"):
        for symbol, path in files.items():
            import_bar_file(engine, path, symbol)
    agent_principal, service_token = create_token(engine, role=Role.SERVICE, name="demo-agent", clock=clock)
    _, admin_token = create_token(engine, role=Role.ADMIN, name="demo-admin", clock=clock)
    account = lifecycle.create_account(
        ctx,
        lifecycle.NewAccount(idempotency_key="demo-audition", clone_id="demo-agent", mode="audition"),
        principal=agent_principal,
    )
    lifecycle.start(ctx, AccountId(account.id))

    server = _serve(ctx, options.host, options.port)
    base = f"http://{options.host}:{options.port}"
    headers = {"Authorization": f"Bearer {service_token}"}
    feed = ReplayFeed(engine, clock, list(options.symbols))
    last_day = datetime.combine(options.end, dtime(23, 59), UTC)
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        agent = DemoAgent(client, account.id, list(options.symbols))

        shown: set[tuple[int, int]] = set()

        def on_step(moment: datetime, quotes: list[Quote]) -> None:
            agent.step()
            marking.mark_all(ctx)
            quarter = (moment.year, (moment.month - 1) // 3)
            if quarter not in shown:
                shown.add(quarter)
                snap = views.snapshot(ctx, AccountId(account.id))
                console.print(
                    f"{moment:%Y-%m-%d}  equity {snap.state.equity:>14,.2f}  positions "
                    f"{len(snap.state.positions)}  actions sent {agent.sent}"
                )

        console.print(f"[bold]replaying {', '.join(options.symbols)} {options.start} .. {options.end}[/bold]")
        report = feed.play(until=last_day, on_step=on_step)

    _summary(console, ctx, account.id, agent, report.steps)
    alpaca = _alpaca_paper_account(console, ctx, base, options.symbols[0])
    console.print(
        f"\n[bold]Where to look[/bold] (API on {base}, database {options.database}):\n"
        f"  docs      {base}/docs\n"
        f"  health    {base}/healthz\n"
        f"  snapshot  curl -H 'Authorization: Bearer {service_token}' {base}/api/v1/prop/accounts/{account.id}/snapshot\n"
        f"  ledger    curl -H 'Authorization: Bearer {service_token}' '{base}/api/v1/prop/accounts/{account.id}/ledger?limit=20'\n"
        f"  audit     curl -H 'Authorization: Bearer {admin_token}' {base}/api/v1/admin/prop/accounts/{account.id}/audit-log\n"
        f"  service token {service_token}\n  admin token   {admin_token}\n"
        f"  alpaca-py TradingClient({alpaca['APCA-API-KEY-ID']!r}, {alpaca['APCA-API-SECRET-KEY']!r}, "
        f"paper=True, url_override={base!r})\n"
        f"  positions curl -H 'APCA-API-KEY-ID: {alpaca['APCA-API-KEY-ID']}' "
        f"-H 'APCA-API-SECRET-KEY: {alpaca['APCA-API-SECRET-KEY']}' {base}/v2/positions",
        soft_wrap=True,
    )
    if options.keep_serving:
        console.print("\nServing until Ctrl-C.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    server.should_exit = True
    engine.dispose()


def _alpaca_paper_account(console: Console, ctx: ServiceContext, base: str, symbol: str) -> dict[str, str]:
    """An Alpaca-style paper account with a key pair, trading once over /v2 as alpaca-py would.

    The replay has ended after the close, so the order uses a ``pd-fill-`` client order id (it
    fills at once at the latest quote, the deterministic outcome for testing outside market
    hours). Returns the key headers, which are printed for the person running the demo.
    """
    paper = paper_accounts.create_paper_account(ctx, owner_user_id=UserId("demo-user"), user_name="Demo user")
    keys = api_keys.create_key(ctx.engine, paper.account_id, clock=ctx.clock)
    headers = {"APCA-API-KEY-ID": keys.key_id, "APCA-API-SECRET-KEY": keys.secret_key}
    order = {"symbol": symbol, "qty": "10", "side": "buy", "type": "market", "time_in_force": "day"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        placed = client.post("/v2/orders", json={**order, "client_order_id": "pd-fill-demo-1"})
        placed.raise_for_status()
        account = client.get("/v2/account").json()
    filled = placed.json()
    console.print(
        f"paper account {paper.account_id} (Alpaca-compatible /v2): {filled['status']} "
        f"{filled['filled_qty']} {symbol} at {filled['filled_avg_price']}; "
        f"cash {account['cash']}, equity {account['equity']}",
        soft_wrap=True,
    )
    return headers


def _summary(console: Console, ctx: ServiceContext, account_id: str, agent: DemoAgent, days: int) -> None:
    snap = views.snapshot(ctx, AccountId(account_id))
    state = snap.state
    table = Table(title=f"Audition account {account_id} ({state.status.value}) after {days} replayed days")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in account_figures(state):
        table.add_row(label, f"{value.quantize(Decimal('0.01')):,}")
    console.print(table)
    positions = ", ".join(f"{s} {p.qty:f} @ {p.mark}" for s, p in sorted(state.positions.items())) or "none"
    console.print(f"positions: {positions}")
    outcomes = ", ".join(f"{k} ×{v}" for k, v in sorted(agent.outcomes.items())) or "none"
    console.print(f"decision actions: {agent.sent} in {agent.runs} batches ({outcomes})")
    drift = recompute(ctx.engine, AccountId(account_id))
    verdict = "[green]no drift[/green]" if not drift else f"[red]drift in {', '.join(sorted(drift))}[/red]"
    console.print(f"recompute (ledger folded from zero vs stored projections): {verdict}")
