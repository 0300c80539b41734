"""Tests mirror the package tree."""
