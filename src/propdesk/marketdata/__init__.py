"""Market data: where prices come from and when markets trade.

``prices`` (the read interface execution uses, staleness), ``clock`` (system and replay clocks),
``calendars`` (NYSE, CME Globex), ``files`` (bar files), ``alpaca`` (the Alpaca Data API client),
``replay`` and ``synthetic`` (quote sources without a network), ``sources`` (the source and
access-log interfaces), ``timeframes``. Importing the package builds nothing.
"""
