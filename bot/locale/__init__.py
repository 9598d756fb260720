"""Message catalogues of the conversation engine: nb.po, fr.po and the finbot.pot template."""
