"""Example integrations tested with apfsm, shipped with the package so the guides run from an
installed wheel (``pip install "apfsm[testing]"``): ``apfsm.examples.shop`` is a small shop's
Amazon Pay integration, the same with planted bugs, and the ``IntegrationMachine`` that
fuzzes it (docs/fuzzing-your-integration.md).

They use apfsm only through its public faces (``apfsm``, ``apfsm.testing``), as a user's
code would; ``tests/test_architecture.py`` holds them to that.
"""
