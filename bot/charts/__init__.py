"""Pictures people would rather look at than read: pure functions from typed data (integer minor units)
to PNG bytes, one module a picture (statement, portfolio, debts, receipt) and one shared style.

Each module has `figure(data)` (a matplotlib Figure, for tests to inspect) and `png(data)` (bytes).
"""
