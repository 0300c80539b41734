"""Tests of propdesk.services."""
