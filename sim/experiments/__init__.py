"""Experiments: replications, comparisons, sweeps and searches built on single runs."""
