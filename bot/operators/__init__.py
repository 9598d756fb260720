"""Operators: the audit chain, maker-checker approvals, freezes and limits, reversals, stats; people's export and close."""
