"""Properties of the rule state over random trading: ratchets, peaks, effective capital, outcomes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.floors import lock_level
from propdesk.risk.rules.pack_enums import BreachBasis
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import Outcome
from tests.risk.rules.desk import Desk

D = Decimal
PACKS = [
    "topstep-50k-combine",
    "topstep-50k-xfa",
    "mffu-rapid-50k",
    "mffu-core-50k",
    "apex-intraday-50k",
    "apex-eod-50k",
    "ftmo-1step-100k",
    "the5ers-high-stakes-100k",
]

step = st.tuples(
    st.sampled_from(["buy", "sell", "mark", "mark", "wait", "payout"]),
    st.integers(min_value=1, max_value=3),  # contracts
    st.integers(min_value=-40, max_value=40),  # price move in points from 5000
    st.integers(min_value=1, max_value=600),  # minutes until the step
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(PACKS), steps=st.lists(step, min_size=1, max_size=25))
def test_floors_ratchet_peaks_rise_and_effective_capital_is_equity_minus_the_binding_floor(
    name: str, steps: list[tuple[str, int, int, int]]
) -> None:
    pack = load_pack(name)
    desk = Desk.open(pack, date(2026, 3, 2))
    cap = lock_level(pack, desk.rules)
    now = desk.start
    floor, peak, paid = desk.rules.max_loss_floor, desk.rules.peak_equity, desk.rules.paid_out
    assert floor is not None
    for action, qty, move, minutes in steps:
        now += timedelta(minutes=minutes)
        price = D(5000 + move)
        held = desk.account.positions.get("ES")
        if action == "buy" and desk.rules.outcome is Outcome.ACTIVE:
            desk.buy(now, qty, price)
        elif action == "sell" and held is not None:
            desk.sell(now, min(D(qty), held.qty), price)  # only long positions are opened
        elif action == "mark" and held is not None:
            desk.mark(now, price)
        elif action == "payout" and desk.rules.outcome is Outcome.ACTIVE and desk.rules.profit > 500:
            desk.payout(now, 100)
        status = evaluate(pack, desk.rules, now)
        state = desk.rules
        assert state.max_loss_floor is not None
        # The max-loss floor is a ratchet: it never falls, and never passes its lock level.
        assert state.max_loss_floor >= floor
        if cap is not None and floor <= cap:
            assert state.max_loss_floor <= cap
        floor = state.max_loss_floor
        # Peaks never fall, except that a payout re-bases them by the amount paid out.
        assert state.peak_equity >= peak - (state.paid_out - paid)
        assert state.peak_balance >= state.balance
        peak, paid = state.peak_equity, state.paid_out
        # Effective capital is equity minus the binding (highest) floor when floors are on equity.
        if all(f.basis is BreachBasis.EQUITY for f in status.floors):
            assert status.effective_capital == status.equity - max(f.floor for f in status.floors)
        assert status.effective_capital == min(f.cushion for f in status.floors)
        # A floor that is touched while trading has ended the evaluation or locked the day. The
        # status is the state rolled forward to ``now`` (``desk.rules`` is not): at a day boundary
        # the loss still open at midnight can breach the new day's floor, and the status's own
        # outcome then says so.
        for item in status.floors:
            if item.breached and status.outcome is Outcome.ACTIVE:
                assert item.outcome.value == "lock_day"
                assert state.day_locked
        if state.outcome is Outcome.FAILED:
            assert status.required_action.value == "liquidate"
            assert not status.can_trade
