"""Day-driven jobs: what happens to a book as trading days pass (corporate actions, expiry)."""
