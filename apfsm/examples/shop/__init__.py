"""A small shop's Amazon Pay integration (``shop``), the same with planted bugs
(``buggy_shop``), and the ``IntegrationMachine`` that fuzzes it (``test_shop``)."""
