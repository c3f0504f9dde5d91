"""Tests of ingest/: connectors, parsing, chunking."""
