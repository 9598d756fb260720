"""Standing orders: recurring payments and trades, their occurrences, and the claim that runs each once."""
