"""Risk maths (pure; reads rule packs from ``risk.rules``, never the reverse).

* :mod:`~propdesk.risk.quant.sizing`, :mod:`~propdesk.risk.quant.ruin`,
  :mod:`~propdesk.risk.quant.stats`: position size, Kelly, risk of ruin, proportions.
* pass probability by Monte Carlo: :mod:`~propdesk.risk.quant.challenge` (runs and summarizes),
  :mod:`~propdesk.risk.quant.challenge_engine`, :mod:`~propdesk.risk.quant.compiled_pack`,
  :mod:`~propdesk.risk.quant.trade_models`, :mod:`~propdesk.risk.quant.trade_sources`,
  :mod:`~propdesk.risk.quant.splitmix`.
* signals: :mod:`~propdesk.risk.quant.vpin`, :mod:`~propdesk.risk.quant.timedecay`.
* :mod:`~propdesk.risk.quant.requests`: request models of ``POST /api/v1/risk/...`` and the CLI.
"""
