"""Benchmarks and evaluations: each prints a table and writes JSON to bench/results/."""
