"""What Alpaca's Trading API shows beyond orders: the trading account, activities, portfolio history, assets, clock and calendar, watchlists."""
