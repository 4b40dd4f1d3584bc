"""Versioned SQL migrations of the read models, applied in file-name order."""
