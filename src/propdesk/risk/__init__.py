"""Prop-firm rules and risk maths (pure; NumPy allowed, no I/O library).

* :mod:`propdesk.risk.rules`: rule packs, the rule state folded from an account's fills, marks,
  day boundaries and payouts, its evaluation, and the retroactive evaluation of a trades file.
* :mod:`propdesk.risk.quant`: the maths: position size, Kelly, risk of ruin, pass probability by
  Monte Carlo, VPIN and time-decay signals, and the request models of the risk API and CLI.
* :mod:`propdesk.risk.gates`: pre-trade rule gates.

``quant`` may read a pack (the Monte Carlo applies its semantics); ``rules`` never imports
``quant`` (``lint-imports`` checks it). Nothing is imported here, so importing one module does
not load NumPy or the packs.
"""
