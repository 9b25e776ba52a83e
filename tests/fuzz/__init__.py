"""Tests of apfsm/fuzz."""
