"""Kelly, sizing and risk of ruin against prop-rules.md §2.1's reference values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propdesk.risk.quant.requests import KellyRequest, RuinRequest, SizeRequest
from propdesk.risk.quant.ruin import Sizing, classic_ruin, monte_carlo_ruin, two_barrier_ruin, vince_ruin
from propdesk.risk.quant.sizing import RiskLevel, kelly, position_size
from propdesk.risk.quant.stats import wilson_interval

D = Decimal


@pytest.mark.parametrize(
    ("w", "r", "f_star", "half", "quarter", "edge"),
    [
        ("0.40", "1.5", "0", "0", "0", "0"),
        ("0.55", "2.0", "0.325", "0.1625", "0.08125", "0.65"),
        ("0.50", "1.0", "0", "0", "0", "0"),
        ("0.50", "1.5", "0.1667", "0.0833", "0.0417", "0.25"),
        ("0.45", "2.0", "0.175", "0.0875", "0.04375", "0.35"),
        ("0.60", "1.0", "0.2", "0.1", "0.05", "0.2"),
        ("0.35", "3.0", "0.1333", "0.0667", "0.0333", "0.4"),
    ],
)
def test_kelly_table(w: str, r: str, f_star: str, half: str, quarter: str, edge: str) -> None:
    result = kelly(D(w), D(r))
    places = D("0.0001")
    assert result.f_star.quantize(places) == D(f_star).quantize(places)
    assert result.half_kelly.quantize(places) == D(half).quantize(places)
    assert result.quarter_kelly.quantize(places) == D(quarter).quantize(places)
    assert result.edge_per_r == D(edge)
    assert result.has_edge is (D(f_star) > 0)


def test_fractional_kelly_keeps_most_growth_and_over_betting_is_flagged() -> None:
    half = kelly(D("0.55"), D(2), fraction=D("0.5"))
    assert (half.fractional_kelly, half.growth_retention) == (D("0.1625"), D("0.75"))
    levels = {
        risk: kelly(D("0.55"), D(2), risk_fraction=D(risk)).level
        for risk in ("0.10", "0.20", "0.40", "0.65", "0.90")
    }
    assert levels == {
        "0.10": RiskLevel.SAFE,
        "0.20": RiskLevel.WARNING,
        "0.40": RiskLevel.DANGER,
        "0.65": RiskLevel.CRITICAL,
        "0.90": RiskLevel.CRITICAL,
    }
    assert any("over-betting" in w for w in kelly(D("0.55"), D(2), risk_fraction=D("0.40")).warnings)
    assert kelly(D("0.40"), D("1.5")).level is RiskLevel.CRITICAL


@pytest.mark.parametrize(
    ("p", "units", "expected"),
    [(0.55, 10, 0.134431), (0.55, 20, 0.018072), (0.51, 50, 0.135299), (0.60, 5, 0.131687), (0.50, 10, 1.0)],
)
def test_classic_ruin_reference_values(p: float, units: int, expected: float) -> None:
    assert classic_ruin(p, units) == pytest.approx(expected, abs=5e-7)


def test_two_barrier_limits() -> None:
    assert two_barrier_ruin(0.5, 4, 10) == pytest.approx(0.6)
    assert two_barrier_ruin(0.55, 0, 10) == 1.0
    assert two_barrier_ruin(0.55, 10, 10) == 0.0
    # A far target turns the two-barrier walk into the classic one-barrier ruin.
    assert two_barrier_ruin(0.55, 10, 2_000) == pytest.approx(classic_ruin(0.55, 10), rel=1e-9)
    assert two_barrier_ruin(0.45, 400, 1_000) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("w", "r", "f", "g", "expected"),
    [
        (0.40, 1.5, 0.10, 1.0, 1.0),
        (0.40, 1.5, 0.10, 0.5, 1.0),
        (0.55, 2.0, 0.01, 0.5, 5.25e-12),
        (0.55, 2.0, 0.05, 0.5, 0.005547),
        (0.50, 1.0, 0.02, 0.5, 1.0),
        (0.50, 1.5, 0.02, 0.5, 0.000413),
        (0.45, 2.0, 0.05, 0.5, 0.048211),
        (0.60, 1.0, 0.05, 0.5, 0.017342),
        (0.35, 3.0, 0.02, 0.2, 0.118176),
        (0.50, 1.5, 0.10, 0.5, 0.210419),
    ],
)
def test_vince_kaufman_reference_values(w: float, r: float, f: float, g: float, expected: float) -> None:
    value = vince_ruin(w, r, f, g)
    if expected == 1.0:
        assert value == 1.0  # zero edge is exactly certain ruin, not 0.9999999
    else:
        # The table shows 6 decimals (or 3 significant digits for tiny values).
        tolerance = expected * 1e-3 if expected < 1e-6 else 5e-7
        assert abs(value - expected) <= tolerance


@pytest.mark.parametrize(
    ("w", "r", "f", "g", "sizing", "trades", "expected"),
    [
        (0.45, 2.0, 0.05, 0.5, Sizing.FIXED, 1000, 0.0334),
        (0.45, 2.0, 0.05, 0.5, Sizing.FRACTIONAL, 1000, 0.0144),
        (0.50, 1.0, 0.02, 0.5, Sizing.FIXED, 1000, 0.4301),
        (0.40, 1.5, 0.10, 0.5, Sizing.FRACTIONAL, 1000, 0.9944),
        (0.40, 1.5, 0.10, 1.0, Sizing.FIXED, 100, 0.4058),
        (0.50, 1.5, 0.10, 0.5, Sizing.FIXED, 1000, 0.1819),
    ],
)
def test_monte_carlo_ruin_within_three_standard_errors_of_the_reference(
    w: float, r: float, f: float, g: float, sizing: Sizing, trades: int, expected: float
) -> None:
    result = monte_carlo_ruin(w, r, f, g, trades=trades, paths=12_000, sizing=sizing, seed=5)
    se = (expected * (1 - expected) / result.trials) ** 0.5
    assert abs(result.estimate - expected) <= 3 * se


def test_fractional_sizing_never_reaches_zero() -> None:
    assert (
        monte_carlo_ruin(0.4, 1.5, 0.1, 1.0, trades=100, paths=100, sizing=Sizing.FRACTIONAL).estimate == 0.0
    )


def test_wilson_interval_is_sane_at_the_edges() -> None:
    low, high = wilson_interval(0, 100)
    assert low == 0.0
    assert 0 < high < 0.05
    low, high = wilson_interval(50, 100)
    assert low < 0.5 < high


def test_sizing_clips_caps_and_handles_an_account_at_its_floor() -> None:
    capped = position_size(
        effective_capital=D(10_000),
        risk_fraction=D("0.05"),
        stop_distance=D(4),
        point_value=D(50),
        per_trade_cap=D(300),
        fee_per_contract=D("4.50"),
    )
    assert (capped.risk_budget, capped.risk_per_contract, capped.contracts) == (D(300), D("204.50"), 1)
    broke = position_size(
        effective_capital=D(-10), risk_fraction=D("0.01"), stop_distance=D(1), point_value=D(5)
    )
    assert (broke.contracts, broke.level, broke.blocked) == (0, RiskLevel.CRITICAL, True)
    tiny = position_size(
        effective_capital=D(100), risk_fraction=D("0.01"), stop_distance=D(1), point_value=D(5)
    )
    assert tiny.contracts == 0
    assert "more than the budget" in tiny.warnings[0]


def test_request_models_refuse_floats_for_money_but_read_ratios_exactly() -> None:
    size = SizeRequest(effective_capital="500", risk_fraction=0.01, stop_distance="0.5", point_value=10).run()
    assert size.risk_fraction == D("0.01")
    with pytest.raises(ValueError, match="binary float"):
        SizeRequest(effective_capital=500.5, risk_fraction=0.01, stop_distance="0.5", point_value=10)
    with pytest.raises(ValueError, match="Extra inputs"):
        KellyRequest(win_rate=0.5, payoff=2, leverage=3)  # type: ignore[call-arg]
    assert KellyRequest(win_rate=0.55, payoff=2).run().f_star == D("0.325")
    ruin = RuinRequest(win_rate=0.55, risk_fraction="0.1", ruin_level="0.4", target_fraction="0.6").run()
    assert ruin.capital_units == D(4)
    assert ruin.two_barrier == pytest.approx(two_barrier_ruin(0.55, 4, 10))
    assert ruin.classic == pytest.approx(classic_ruin(0.55, 4))
