"""Fee models: bps of notional rounded half-up to cents, per contract for futures and options."""

from __future__ import annotations

from decimal import Decimal

import pytest

from propdesk.execution.fees import BpsOfNotional, PerContract, fee_model_for
from propdesk.model.instruments import Instrument, crypto_pair, future, option
from propdesk.model.policy import ExecutionPolicy
from tests.execution.factories import AAPL

D = Decimal
ES = future("ESZ26")
CALL = option("AAPL240119C00150000")


def test_ten_bps_of_12345_67_is_12_35() -> None:
    assert BpsOfNotional(D(10)).fee(D(1), D("12345.67"), AAPL) == D("12.35")


def test_bps_fee_rounds_half_up_not_half_even() -> None:
    # 12,345.00 × 10 bps = 12.345: a broker bills 12.35 (half-even would give 12.34).
    assert BpsOfNotional(D(10)).fee(D(100), D("123.45"), AAPL) == D("12.35")


def test_bps_fee_is_on_notional_including_the_multiplier() -> None:
    # 2 option contracts at 1.50 are 300.00 of premium; 10 bps of that is 0.30.
    assert BpsOfNotional(D(10)).fee(D(2), D("1.50"), CALL) == D("0.30")


def test_bps_fee_ignores_the_sign_of_qty_and_price() -> None:
    assert BpsOfNotional(D(10)).fee(D(-5), D("-40"), future("CLK20")) == D("200.00")


def test_fractional_crypto_fee() -> None:
    btc = crypto_pair("BTC/USD")
    assert BpsOfNotional(D(10)).fee(D("0.0123"), D("42000.00"), btc) == D("0.52")  # 516.6 × 0.001


def test_per_contract_fee() -> None:
    assert PerContract(D("2.25")).fee(D(3), D("5000.00"), ES) == D("6.75")
    assert PerContract(D("2.25")).fee(D(-3), D("5000.00"), ES) == D("6.75")


def test_per_contract_fee_bills_sub_cent_rates_to_the_cent() -> None:
    assert PerContract(D("0.125")).fee(D(3), D(1), ES) == D("0.38")  # 0.375 half-up


def test_seed_policy_charges_ten_bps() -> None:
    model = fee_model_for(ExecutionPolicy(), AAPL)
    assert model == BpsOfNotional(D(10))
    assert model.fee(D(500), D("100.00"), AAPL) == D("50.00")


@pytest.mark.parametrize("instrument", [ES, CALL])
def test_contracts_are_billed_per_contract_when_the_policy_sets_a_rate(instrument: Instrument) -> None:
    policy = ExecutionPolicy(fee_per_contract=D("1.50"))
    assert fee_model_for(policy, instrument) == PerContract(D("1.50"))


def test_equities_stay_on_bps_even_with_a_per_contract_rate() -> None:
    policy = ExecutionPolicy(fee_per_contract=D("1.50"), fee_bps=D(5))
    assert fee_model_for(policy, AAPL) == BpsOfNotional(D(5))


def test_futures_without_a_per_contract_rate_pay_bps() -> None:
    assert fee_model_for(ExecutionPolicy(), ES) == BpsOfNotional(D(10))


def test_negative_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        BpsOfNotional(D(-1))
    with pytest.raises(ValueError, match="negative"):
        PerContract(D(-1))
