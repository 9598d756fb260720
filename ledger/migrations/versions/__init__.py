"""Revisions of the ledger schema."""
