"""A shop written against the ``AmazonPayClient`` package (``shop``), fuzzed unchanged
under ``apfsm.testing.mock_amazon_pay()`` by an ``IntegrationMachine`` (``test_sdk_shop``)."""
