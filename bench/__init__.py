"""Benchmark harness for whoson: ingest, report, live view, and DuckDB / pandas peers.

Run ``python bench/run.py`` (``make bench``); see docs/performance.md.
"""
