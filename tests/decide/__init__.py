"""Tests of apfsm/decide."""
