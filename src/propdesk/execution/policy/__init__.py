"""The one pre-trade policy path: every check a trade meets, one code table, one result type. Pure.

* :mod:`.codes`: :class:`~.codes.CheckCode`, the closed table of stable check codes, and how an
  order API answers each (the HTTP status of a refusal).
* :mod:`.results`: :class:`~.results.CheckResult` (one check's verdict with what it measured and
  its limit) inside a :class:`~.results.CheckReport`.
* :mod:`.actions`: the seed execution policy's checks on a decision action (every check reported
  at once, never stopping at the first failure).
* :mod:`.orders`: the order APIs' checks on an order request and the exposure it adds (the order
  book runs them; the first failure refuses the order with its code).

The prop-firm rule pack's checks (``rule:*`` codes) live with the rule state in
:mod:`propdesk.risk.gates`, one layer up, and return the same types. ``docs/checks.md`` lists every
code.
"""
