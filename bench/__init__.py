"""Folio's benchmarks: `python -m bench` runs every module here and prints one table."""
