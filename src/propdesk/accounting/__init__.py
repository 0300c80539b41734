"""Position math and the Account kernel: pure functions over exact decimals."""
