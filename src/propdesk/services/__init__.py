"""Use cases: one function per command, each one transaction over the store."""
