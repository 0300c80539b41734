"""Tests of propdesk.store."""
