"""Day-driven jobs over every account: option expiry (more to come: corporate actions, snapshots)."""
