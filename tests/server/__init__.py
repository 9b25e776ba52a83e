"""Tests of apfsm/server."""
