"""The ``whoson`` command line: ingest, report, live, simulate."""
