"""Health checks: when a server counts as healthy after a release (spec) and asking it (check)."""
