"""Tests of apfsm/docs."""
