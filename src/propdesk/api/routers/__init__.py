"""Route modules of the HTTP API."""
