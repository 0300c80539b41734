"""The paper broker: one account's orders, from acceptance through fills to their end. Pure.

An :class:`OrderBook` is the working set of one command on one account: the account state loaded
under its lock and the account's open orders. Its methods (``submit``, ``cancel``, ``replace``,
``on_tick``) change the orders and run every money movement through the account kernel, so the
caller only has to store what the book collected (``events``, ``fills``, ``changed`` orders and the
trade ``updates``) in the same transaction.

The rules, where Alpaca's paper engine is the reference:

* **Acceptance.** An order that adds exposure reserves buying power (``reservations``); exits that
  only reduce a position reserve nothing. The account must be active, the asset class and symbol
  allowed, opening a short allowed by the policy and by the asset (shortable, easy to borrow unless
  the policy allows hard-to-borrow), the open-order count within the policy.
* **Sessions.** Equities, options and futures trade only inside their calendar's session; crypto
  around the clock (crypto takes ``gtc`` and ``ioc`` only). An order sent outside the session is
  ``accepted`` and waits for the open; IOC and FOK are refused outside the session. At the open
  (a session-open tick, or else the first in-session tick) an accepted order becomes ``new``
  (a ``new`` update) and is evaluated from the first event of the session on, never against a
  quote from outside it.
* **Deterministic outcomes** (for testing trade updates outside market hours, as Alpaca users ask
  in alpacahq/Alpaca-API#173): a ``client_order_id`` starting ``pd-fill-`` fills the whole order
  at once whatever the session (a limit or stop-limit at its limit price; a market, stop or
  trailing stop at the latest quote's far side, else at its stop price); ``pd-reject-`` rejects
  it at once. Both pass every acceptance check first and go through the normal reservation,
  fill and update paths. A book that must see real fills only (``allow_forced_outcomes``
  False: a prop-firm evaluation) refuses them.
* **Immediate execution.** At acceptance an order is tried against the latest quote if it is fresh
  (``max_quote_age_seconds``) and the session is open. IOC fills what it can and cancels the rest;
  FOK fills everything at once or nothing (canceled).
* **Resting orders** are evaluated on each :class:`Tick` in time order (:mod:`propdesk.execution.matching` says
  whether and at what price); how much fills per tick is the policy's fill model
  (``volume_share`` caps it at a participation of the bar volume or displayed size,
  ``alpaca_parity`` makes 10% of fills partial with a RNG seeded by the order id and its
  evaluation count, so a replay draws the same numbers). A fill never exceeds what is open; a
  stop or trailing stop that has triggered fills what is left like a market order.
* **Time in force.** DAY orders expire at the session close (early closes included, from the
  calendar); GTC persist; OPG orders fill on the first tick at or after the open or expire; CLS
  orders fill at the last price of the session on the close tick or expire.
* **Buying power.** A fill releases its share of the reservation (``release_for_fill``); a fill that
  adds exposure and would leave available capital below zero, or an option position with unbounded
  risk, is not made: the order is canceled with the reason.
* **Classes.** Bracket: an entry plus a take-profit limit and a stop-loss, the exits ``held`` until
  the entry has filled completely (an entry that ends part-filled releases them for what it filled,
  unless their own DAY has ended too; one that ends unfilled cancels them). OTO: an entry plus one
  exit. OCO: two exits, a limit (the order itself) and a stop (its leg); a fill of either shrinks
  the other to what is still open (so together they never close more than asked) and cancels it
  when nothing is left.
* **Replace** makes a new order (``replaces`` / ``replaced_by``) checked as a new one would be: its
  prices, its time in force when that changes (and its expiry with it), and, unless it is an exit
  leg, the exposure rules and a fresh reservation. A refused replace leaves the book unchanged.

Modules: :mod:`.book` (the :class:`~.book.OrderBook` and its submit/cancel/replace entry points),
:mod:`.core` (the book's state and bookkeeping), :mod:`.events` (what a market event does to
resting orders), :mod:`.fills` (pricing and booking a fill), :mod:`.buying_power` (what an order reserves), :mod:`.legs` (bracket/OTO/OCO exit legs),
:mod:`.expiry` (time in force), :mod:`.forced` (``pd-fill-``/``pd-reject-``), :mod:`.requests`
(the request and event types) and :mod:`.errors`. The acceptance checks are the order checks of
the one policy path, :mod:`propdesk.execution.policy.order_checks`. Multi-leg option orders live
in :mod:`propdesk.execution.spread_orders`.
"""
