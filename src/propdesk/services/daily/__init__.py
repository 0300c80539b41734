"""Day-driven jobs over every account: option expiry, corporate actions, end-of-day snapshots."""
