"""Who may do what: bearer tokens, key pairs, ownership, request limits."""
