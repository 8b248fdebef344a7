"""Reaching servers over SSH (asyncssh lives only in this package)."""
