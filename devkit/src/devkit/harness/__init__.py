"""Harnesses shared by the integration and end-to-end tests and the benchmarks."""
