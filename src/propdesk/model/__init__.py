"""Value types of the domain: exact numbers, typed ids, instruments, quotes, fills, policies."""
