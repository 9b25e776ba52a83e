"""Tests of apfsm/spec."""
