"""Day-driven jobs over every account: option expiry, end-of-day snapshots (next: corporate actions)."""
