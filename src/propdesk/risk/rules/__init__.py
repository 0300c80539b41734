"""Prop-firm rule packs and the rule state of an account (pure; imports nothing from ``risk.quant``).

* a pack: :mod:`~propdesk.risk.rules.pack` (the pack, parsing, snapshots, fingerprint), its
  :mod:`~propdesk.risk.rules.pack_sections`, :mod:`~propdesk.risk.rules.pack_enums` and
  :mod:`~propdesk.risk.rules.pack_fields`; :mod:`~propdesk.risk.rules.packs` loads the shipped
  YAML files; :mod:`~propdesk.risk.rules.sessions`: trading days from its day boundary.
* the state: :mod:`~propdesk.risk.rules.state` (types and inputs),
  :mod:`~propdesk.risk.rules.observations` (an account observed, open contracts),
  :mod:`~propdesk.risk.rules.floors`, :mod:`~propdesk.risk.rules.objectives` (figures derived from
  it), :mod:`~propdesk.risk.rules.breaches` (the rules that act),
  :mod:`~propdesk.risk.rules.fold` (start, roll, observe, payouts),
  :mod:`~propdesk.risk.rules.ledger` (the fold from an account's ledger) and
  :mod:`~propdesk.risk.rules.state_codec` (its JSON form).
* the report: :mod:`~propdesk.risk.rules.evaluate` builds a
  :mod:`~propdesk.risk.rules.status` with the scales of :mod:`~propdesk.risk.rules.levels`.
* :mod:`~propdesk.risk.rules.retro_evaluation`: a trader's own fills (a trades CSV) replayed
  through a pack after the fact.
"""
