"""Execution: fill models, fee models, action resolution, the order book and the pre-trade policy. Pure.

Nothing here reads a clock, a database or the network: quotes, time and account state come in as
arguments, so the live service, replay and tests price and gate an action identically.
"""

from propdesk.execution.actions import (
    ActionRejected,
    Problem,
    ProposedAction,
    Resolution,
    ResolvedOrder,
    resolve_action,
    resolve_order,
    resolve_side,
)
from propdesk.execution.fees import BpsOfNotional, FeeModel, PerContract, fee_model_for
from propdesk.execution.fill_models import (
    BpsSlippageFillModel,
    FillModel,
    MidFillModel,
    NbboFillModel,
    PricedFill,
    bps_slippage,
    build_fill,
    fill_model_for,
    mid,
    nbbo,
)
from propdesk.execution.policy.action_checks import check_action, evaluate_checks
from propdesk.execution.policy.codes import ACTION_CHECKS, CheckCode, CheckValue
from propdesk.execution.policy.results import CheckReport, CheckResult, failed_checks

__all__ = [
    "ACTION_CHECKS",
    "ActionRejected",
    "BpsOfNotional",
    "BpsSlippageFillModel",
    "CheckCode",
    "CheckReport",
    "CheckResult",
    "CheckValue",
    "FeeModel",
    "FillModel",
    "MidFillModel",
    "NbboFillModel",
    "PerContract",
    "PricedFill",
    "Problem",
    "ProposedAction",
    "Resolution",
    "ResolvedOrder",
    "bps_slippage",
    "build_fill",
    "check_action",
    "evaluate_checks",
    "failed_checks",
    "fee_model_for",
    "fill_model_for",
    "mid",
    "nbbo",
    "resolve_action",
    "resolve_order",
    "resolve_side",
]
