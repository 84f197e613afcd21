"""Simulated charge points, EVs, meters and sites: the demo, tests and benchmarks."""
