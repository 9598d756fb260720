"""adapters/cli package."""
