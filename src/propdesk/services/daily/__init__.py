"""Daily jobs of the book: end-of-day snapshots, expiry, corporate actions."""
