"""Example integrations tested with apfsm (see docs/fuzzing-your-integration.md)."""
