"""Market data for services: manual prices, bar imports, fetches, latest quotes."""
