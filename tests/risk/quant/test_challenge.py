"""The challenge Monte Carlo: exact where a closed form exists, ordered where semantics nest, and
trade-for-trade identical to the Decimal rule state on scripted paths."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from propdesk.risk.quant.challenge import simulate_challenge, simulate_paths
from propdesk.risk.quant.challenge_engine import (
    FAIL_CONSISTENCY,
    FAIL_DAILY,
    FAIL_MAX_LOSS,
    FAIL_STREAK,
    PASSED,
    RUNNING,
)
from propdesk.risk.quant.ruin import two_barrier_ruin
from propdesk.risk.quant.trade_models import BootstrapTrades, ParametricTrades, ScriptedTrades
from propdesk.risk.rules.fold import advance_to, observe, start_rules
from propdesk.risk.rules.pack import RulePack, parse_pack
from propdesk.risk.rules.pack_enums import Comparison, ConsistencyDenominator, MaxLossReference, RuleOutcome
from propdesk.risk.rules.pack_sections import ConsecutiveLosses, ConsistencyRule
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.sessions import clock_of
from propdesk.risk.rules.state import FillFact, Observation, Outcome

D = Decimal

STATIC = """
id: static-test
version: "1"
name: Static test
firm: test
plan: test
phase: evaluation
effective_date: 2026-01-01
sources: ["https://example.com"]
starting_balance: 50000
day_boundary: {timezone: America/Chicago, time: "17:00"}
max_loss: {reference: static, amount: 2000}
profit_target: {amount: 3000}
"""


def static_pack(reference: MaxLossReference = MaxLossReference.STATIC) -> RulePack:
    pack = parse_pack(STATIC)
    assert pack.max_loss is not None
    rule = pack.max_loss.model_copy(update={"reference": reference})
    return pack.model_copy(update={"max_loss": rule, "version": reference.value})


@pytest.mark.parametrize("win_rate", [0.5, 0.55, 0.45])
def test_static_pack_matches_the_exact_two_barrier_formula(win_rate: float) -> None:
    """±1R trades of 500 against a 2,000 floor and a 3,000 target: i = 4, N = 10."""
    result = simulate_challenge(
        static_pack(),
        ParametricTrades(win_rate=win_rate, payoff=1.0, risk=D(500)),
        paths=20_000,
        max_days=300,
    )
    exact = 1 - two_barrier_ruin(win_rate, 4, 10)
    assert result.timed_out == 0
    assert abs(result.p_pass - exact) <= 3 * np.sqrt(exact * (1 - exact) / result.paths)
    assert result.wilson_low <= exact <= result.wilson_high or abs(result.p_pass - exact) < 0.01


def test_a_shipped_static_pack_with_minimum_days_still_matches_two_barrier() -> None:
    """FTMO 2-Step: 10,000 floor, 10,000 target, 1,000 risk → i = 10, N = 20 (its 5,000 daily limit
    cannot be reached with three trades a day, and the four-day minimum only delays passing)."""
    result = simulate_challenge(
        load_pack("ftmo-2step-100k"),
        ParametricTrades(win_rate=0.52, payoff=1.0, risk=D(1000), trades_per_day=3),
        paths=20_000,
        max_days=400,
        seed=7,
    )
    exact = 1 - two_barrier_ruin(0.52, 10, 20)
    assert result.timed_out == 0
    assert abs(result.p_pass - exact) <= 3 * result.standard_error + 1e-9
    assert result.days_to_pass_median is not None
    assert result.days_to_pass_median >= 4


def test_pass_probability_orders_intraday_below_eod_below_static_path_by_path() -> None:
    trader = ParametricTrades(win_rate=0.5, payoff=1.5, risk=D(250), trades_per_day=4, loser_mfe_r=0.6)
    passed = {}
    for reference in (
        MaxLossReference.INTRADAY_EQUITY_TRAILING,
        MaxLossReference.EOD_BALANCE_TRAILING,
        MaxLossReference.STATIC,
    ):
        outcome = simulate_paths(static_pack(reference), trader, paths=8_000, max_days=80, seed=3)
        passed[reference] = outcome.result == PASSED
    intraday = passed[MaxLossReference.INTRADAY_EQUITY_TRAILING]
    eod = passed[MaxLossReference.EOD_BALANCE_TRAILING]
    static = passed[MaxLossReference.STATIC]
    assert not (intraday & ~eod).any()  # every path that passes intraday passes EOD
    assert not (eod & ~static).any()
    assert intraday.sum() < eod.sum() < static.sum()


def test_results_do_not_depend_on_chunking_and_repeat_under_a_seed() -> None:
    pack, trader = load_pack("topstep-50k-combine"), ParametricTrades(win_rate=0.5, payoff=1.5, risk=D(300))
    a = simulate_paths(pack, trader, paths=3_000, max_days=40, seed=11, chunk_size=1_000)
    b = simulate_paths(pack, trader, paths=3_000, max_days=40, seed=11, chunk_size=4_096)
    c = simulate_paths(pack, trader, paths=3_000, max_days=40, seed=12, chunk_size=4_096)
    assert np.array_equal(a.result, b.result)
    assert np.array_equal(a.day, b.day)
    assert not np.array_equal(a.result, c.result)


def test_result_accounts_for_every_path() -> None:
    result = simulate_challenge(
        load_pack("apex-eod-50k"),
        ParametricTrades(win_rate=0.45, payoff=1.5, risk=D(400), trades_per_day=3, commission=D("4.5")),
        paths=4_000,
        max_days=30,
    )
    assert result.passed + sum(result.failures.values()) + result.timed_out == result.paths
    assert result.wilson_low <= result.p_pass <= result.wilson_high
    assert result.failures["max_loss"] > 0
    assert result.not_simulated
    assert result.trader_days > 0


def test_fractional_risk_and_bootstrap_models_run() -> None:
    pack = load_pack("mffu-core-50k")
    fractional = simulate_challenge(
        pack, ParametricTrades(win_rate=0.5, payoff=1.5, risk_fraction=0.005), paths=2_000, max_days=60
    )
    assert 0 < fractional.p_pass < 1
    steady = BootstrapTrades(pnls=(D(100), D(100), D(100)), trades_per_day=3)
    sure = simulate_challenge(pack, steady, paths=500, max_days=30)
    assert sure.p_pass == 1.0
    assert sure.days_to_pass_median == 10.0  # 300 a day to 3,000
    mixed = BootstrapTrades(pnls=tuple(D(x) for x in (400, -300, 250, -300, 500, -200)), trades_per_day=2)
    assert 0 < simulate_challenge(pack, mixed, paths=2_000, max_days=60).p_pass < 1


def test_a_daily_soft_breach_is_flattened_at_the_floor() -> None:
    """Day 1 crosses the 1,000 daily floor on its second trade: flattened at the floor the account
    keeps 49,000 and survives a −900 day 2; letting the −1,200 stand leaves 48,800, and day 2 then
    breaks the 48,000 max-loss floor."""
    pack = load_pack("topstep-50k-combine")
    script = np.full((1, 2, 3), np.nan)
    script[0, 0] = [-600, -600, 900]  # the 900 is never traded: the day is locked
    script[0, 1] = [-900, np.nan, np.nan]
    flattened = simulate_paths(pack, ScriptedTrades(script), paths=1, max_days=2)
    assert flattened.result[0] == RUNNING
    kept = simulate_paths(pack, ScriptedTrades(script), paths=1, max_days=2, flatten_at_floor=False)
    assert (kept.result[0], kept.day[0]) == (FAIL_MAX_LOSS, 2)


# --- cross-check against the Decimal rule state ---------------------------------------------------


def decimal_outcome(
    pack: RulePack, pnls: np.ndarray, favourable: np.ndarray | None = None, adverse: np.ndarray | None = None
) -> tuple[int, int]:
    """Replay one scripted path through the exact rule state: (result code, decision day).

    Each trade opens (a fill), optionally marks at its excursion (a loser's favourable run first,
    a winner's adverse dip first), then closes (a fill)."""
    zone = ZoneInfo(pack.day_boundary.timezone)
    first = date(2026, 3, 2)
    start = datetime.combine(first, time(8, 0), tzinfo=zone).astimezone(UTC)
    state = start_rules(pack, start)
    clock = clock_of(pack)
    balance = pack.starting_balance
    for d in range(pnls.shape[0]):
        day = first + timedelta(days=d)
        for j in range(pnls.shape[1]):
            value = pnls[d, j]
            if (
                np.isnan(value)
                or state.outcome is not Outcome.ACTIVE
                or (state.day_locked and clock.trading_day(state.last_at) == day)
            ):
                continue
            opened = datetime.combine(day, time(9, 0), tzinfo=zone) + timedelta(minutes=10 * j)
            state = observe(
                pack,
                state,
                Observation(
                    opened.astimezone(UTC),
                    balance,
                    balance,
                    has_positions=True,
                    fill=FillFact("ES", D(0), D(0), D(0), D(1)),
                ),
            )
            if state.outcome is not Outcome.ACTIVE or state.day_locked:
                continue
            excursion = None
            if favourable is not None and value <= 0 and favourable[d, j] > 0:
                excursion = balance + D(int(favourable[d, j]))
            if adverse is not None and value > 0 and adverse[d, j] > 0:
                excursion = balance - D(int(adverse[d, j]))
            if excursion is not None:
                state = observe(
                    pack,
                    state,
                    Observation(
                        (opened + timedelta(minutes=2)).astimezone(UTC),
                        excursion,
                        balance,
                        has_positions=True,
                    ),
                )
                if state.outcome is not Outcome.ACTIVE:
                    continue  # a locked day still lets the open trade close (its result stands)
            balance += D(int(value))
            state = observe(
                pack,
                state,
                Observation(
                    (opened + timedelta(minutes=5)).astimezone(UTC),
                    balance,
                    balance,
                    fill=FillFact("ES", D(int(value)), D(0), D(1), D(0)),
                ),
            )
    last = first + timedelta(days=pnls.shape[0] - 1)
    state = advance_to(pack, state, clock.session_end(last))
    if state.outcome is Outcome.ACTIVE:
        return RUNNING, 0
    assert state.outcome_at is not None
    decided = clock.trading_day(state.outcome_at - timedelta(microseconds=1))
    code = {
        "max_loss": FAIL_MAX_LOSS,
        "daily_loss": FAIL_DAILY,
        "consistency": FAIL_CONSISTENCY,
        "max_consecutive_losses": FAIL_STREAK,
        "profit_target": PASSED,
    }[state.outcome_rule or ""]
    return code, (decided - first).days + 1


def variants() -> list[RulePack]:
    topstep = load_pack("topstep-50k-combine")
    seed_consistency = ConsistencyRule(
        percent=D(50),
        comparison=Comparison.LE,
        denominator=ConsistencyDenominator.TARGET_OR_TOTAL,
        outcome=RuleOutcome.LOCK_DAY,
    )
    failing_consistency = seed_consistency.model_copy(update={"outcome": RuleOutcome.FAIL, "percent": D(60)})
    return [
        topstep,
        load_pack("mffu-rapid-50k"),
        load_pack("ftmo-2step-100k").model_copy(update={"starting_balance": D(50_000), "version": "half"}),
        load_pack("the5ers-high-stakes-100k").model_copy(
            update={"starting_balance": D(40_000), "version": "x"}
        ),
        load_pack("apex-eod-50k"),
        load_pack("mffu-core-50k").model_copy(update={"consistency": seed_consistency, "version": "seed"}),
        topstep.model_copy(
            update={
                "consistency": failing_consistency,
                "max_consecutive_losses": ConsecutiveLosses(max=3, outcome=RuleOutcome.LOCK_DAY),
                "version": "strict",
            }
        ),
        topstep.model_copy(
            update={
                "max_consecutive_losses": ConsecutiveLosses(max=4, outcome=RuleOutcome.FAIL),
                "version": "s",
            }
        ),
    ]


@pytest.mark.parametrize("lowest", [-24, -32], ids=["drifting", "volatile"])
@pytest.mark.parametrize("pack", variants(), ids=lambda p: p.key)
def test_monte_carlo_agrees_trade_for_trade_with_the_decimal_rule_state(pack: RulePack, lowest: int) -> None:
    rng = np.random.default_rng(2026)
    paths, days, k = 40, 14, 3
    script = rng.choice(np.arange(lowest, 37) * 25.0, size=(paths, days, k))
    script[rng.random((paths, days, k)) < 0.15] = np.nan  # some slots without a trade
    outcome = simulate_paths(
        pack,
        ScriptedTrades(script),
        paths=paths,
        max_days=days,
        flatten_at_floor=False,
        coast_after_target=False,
    )
    for p in range(paths):
        expected = decimal_outcome(pack, script[p])
        got = (int(outcome.result[p]), int(outcome.day[p]) if outcome.result[p] != RUNNING else 0)
        assert got == expected, f"path {p}"
    assert len(set(outcome.result.tolist())) > 1  # the script exercises more than one outcome


@pytest.mark.parametrize(
    ("name", "scale"),
    [("mffu-rapid-50k", 1), ("apex-intraday-50k", 1), ("topstep-50k-combine", 2), ("ftmo-2step-100k", 6)],
)
def test_in_trade_excursions_agree_with_marks_through_the_decimal_rule_state(name: str, scale: int) -> None:
    """A loser that first runs in the trader's favour ratchets an intraday floor (ghost drawdown);
    a winner that first dips can breach before it wins. Both engines must agree trade for trade."""
    pack = load_pack(name)
    rng = np.random.default_rng(7)
    paths, days, k = 40, 12, 3
    script = rng.choice(np.arange(-30, 37) * 25.0 * scale, size=(paths, days, k))
    favourable = rng.choice(np.arange(0, 40) * 25.0 * scale, size=(paths, days, k))
    adverse = rng.choice(np.arange(0, 30) * 25.0 * scale, size=(paths, days, k))
    outcome = simulate_paths(
        pack,
        ScriptedTrades(script, favourable, adverse),
        paths=paths,
        max_days=days,
        flatten_at_floor=False,
        coast_after_target=False,
    )
    for p in range(paths):
        expected = decimal_outcome(pack, script[p], favourable[p], adverse[p])
        got = (int(outcome.result[p]), int(outcome.day[p]) if outcome.result[p] != RUNNING else 0)
        assert got == expected, f"path {p}"
    assert len(set(outcome.result.tolist())) > 1
