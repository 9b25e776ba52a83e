"""Tests of apfsm/sim."""
