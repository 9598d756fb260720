"""Funding adapters: the sandbox used by default."""
