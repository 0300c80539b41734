"""Prop and AI accounts: decision actions, mark-to-market, rule packs."""
