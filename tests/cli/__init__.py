"""Tests of apfsm/cli."""
