"""Demo data: deterministic companies and grants for exploring the API and for benchmarks."""
