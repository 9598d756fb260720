"""Rates adapters: live providers of exchange rates (the embedded ECB table is bot/rates.py's default)."""
