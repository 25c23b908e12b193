"""Benchmarks: each module prints a readable table and writes JSON to bench/results/."""
