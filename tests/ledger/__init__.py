"""Tests of the ledger room, on SQLite and on a real PostgreSQL."""
