"""Analyst reports over the read models: ``botctl report`` (CSV files and one HTML page)."""
