"""Keeping up with upstream: what the package index has that the kit's pins do not."""
