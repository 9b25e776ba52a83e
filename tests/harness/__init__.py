"""Tests of apfsm/harness."""
