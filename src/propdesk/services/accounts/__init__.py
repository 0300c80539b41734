"""Accounts: open, start, execute on the kernel, lifecycle, admin controls, paper accounts, closeouts, read models."""
