"""``propdesk demo``: the service on SQLite, replayed real prices and a small agent trading over HTTP."""
