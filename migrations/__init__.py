"""Aerich migrations of Hoist's schema, one folder per app (`hoist/`)."""
