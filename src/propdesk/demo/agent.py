"""A small demo agent: reads its decision context over HTTP and sends decision batches.

It is an ordinary API client (bearer token, JSON), the way an AI trading system would use
propdesk; its strategy is the deterministic moving-average crossover of the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from propdesk.backtest.strategies import SmaCrossover


@dataclass
class DemoAgent:
    client: httpx.Client
    account_id: str
    symbols: list[str]
    strategy: SmaCrossover = field(default_factory=SmaCrossover)
    runs: int = 0
    sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def step(self) -> list[dict[str, Any]]:
        """One decision round: read the context, propose, submit; returns the recorded actions."""
        context = self.client.get(
            f"/api/v1/prop/accounts/{self.account_id}/decision-context",
            params={"symbols": ",".join(self.symbols)},
        )
        context.raise_for_status()
        body = context.json()
        held = {p["symbol"]: Decimal(p["qty"]) for p in body["snapshot"]["positions"]}
        actions: list[dict[str, Any]] = []
        for symbol in self.symbols:
            quote = body["quotes"].get(symbol)
            if quote is None:
                continue
            for proposal in self.strategy.on_close(
                symbol, Decimal(quote["mid"]), held.get(symbol, Decimal(0))
            ):
                action: dict[str, Any] = {
                    "decisionActionId": f"{symbol}-{len(actions)}",
                    "action": proposal.action.value,
                    "symbol": symbol,
                }
                if proposal.notional is not None:
                    action["notional"] = str(proposal.notional)
                actions.append(action)
        if not actions:
            return []
        self.runs += 1
        response = self.client.post(
            f"/api/v1/prop/accounts/{self.account_id}/decision-actions",
            json={"decisionRunId": f"run-{self.runs}", "actions": actions},
        )
        response.raise_for_status()
        recorded: list[dict[str, Any]] = response.json()["actions"]
        self.sent += len(recorded)
        for item in recorded:
            key = item["status"] if item["status"] != "rejected" else f"rejected: {item['reason']}"
            self.outcomes[key] = self.outcomes.get(key, 0) + 1
        return recorded
