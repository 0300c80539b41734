"""Prop-firm rules and risk maths (pure; NumPy allowed, no I/O library).

* :mod:`~propdesk.risk.pack`: rule packs as validated, versioned data; :mod:`~propdesk.risk.packs`
  loads the shipped YAML files.
* :mod:`~propdesk.risk.sessions`: trading days from a pack's day boundary, DST-correct.
* :mod:`~propdesk.risk.state`: the rule state folded from fills, marks, day boundaries and
  payouts; :mod:`~propdesk.risk.ledger` folds it from an account's ledger.
* :mod:`~propdesk.risk.evaluate`: floors, cushions, effective capital, severities, progress and
  the action a service must take; :mod:`~propdesk.risk.gates`: pre-trade rule gates.
* :mod:`~propdesk.risk.sizing`, :mod:`~propdesk.risk.ruin`: position size, Kelly, risk of ruin.
* :mod:`~propdesk.risk.challenge`: pass probability by vectorized Monte Carlo.
* :mod:`~propdesk.risk.vpin`, :mod:`~propdesk.risk.timedecay`: signals usable as gates and exits.
* :mod:`~propdesk.risk.replay`: retroactive evaluation of a trades file.
* :mod:`~propdesk.risk.requests`: request models for the risk API and CLI.

Nothing is imported here, so importing one module does not load NumPy or the packs.
"""
