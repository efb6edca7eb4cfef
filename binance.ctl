{"now":"2025-03-01T12:30:00Z","futures_alias":{"1000BTCUSDT":"BTCUSDT"}}
