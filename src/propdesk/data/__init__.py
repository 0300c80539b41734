"""Market data shipped with propdesk (see README.md in this folder)."""
