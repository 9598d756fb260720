"""Alembic migrations of the ledger's own tables (version table `alembic_version_ledger`)."""
