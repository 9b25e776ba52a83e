"""The pytest plugin's options, marker, server fixture and Hypothesis profiles (issue 13
item 2), run in pytester sandboxes as a user's suite would use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SESSION = (
    '{"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a/r",'
    ' "checkoutResultReturnUrl": "https://a/x"}, "storeId": "s"}'
)


def test_start_seed_and_strict_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from datetime import UTC, datetime
        from apfsm.testing import WatchedSimulator

        def test_options(apfsm_simulator, apfsm_clock):
            assert datetime(2031, 2, 3, 4, 5, tzinfo=UTC) == apfsm_clock.now()
            assert "7" == apfsm_simulator.seed
            assert isinstance(apfsm_simulator, WatchedSimulator) and apfsm_simulator.strict
        """
    )
    result = pytester.runpytest(
        "-q", "--apfsm-start", "2031-02-03T04:05:00+00:00", "--apfsm-seed", "7", "--apfsm-strict"
    )
    result.assert_outcomes(passed=1)


def test_the_marker_overrides_the_options_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from datetime import UTC, datetime
        import pytest
        from apfsm.testing import WatchedSimulator

        @pytest.mark.apfsm(start="2040-01-01T00:00:00+00:00", seed=3, strict=False)
        def test_marked(apfsm_simulator, apfsm_clock):
            assert datetime(2040, 1, 1, tzinfo=UTC) == apfsm_clock.now()
            assert "3" == apfsm_simulator.seed
            assert not isinstance(apfsm_simulator, WatchedSimulator)

        def test_unmarked(apfsm_simulator):
            assert "9" == apfsm_simulator.seed

        @pytest.mark.apfsm(speed="fast")
        def test_bad_marker(apfsm_simulator):
            pass
        """
    )
    result = pytester.runpytest("-q", "--apfsm-seed", "9", "--strict-markers")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.apfsm takes keywords control_token, seed, start, strict*"]
    )


def test_the_server_fixture_serves_any_client_over_http(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import json
        import urllib.request

        def test_server(apfsm_server):
            request = urllib.request.Request(
                apfsm_server.url + "/v2/checkoutSessions",
                data=b'{SESSION}',
                method="POST",
                headers={{"content-type": "application/json",
                          "x-amz-pay-idempotency-key": "k-1"}},
            )
            with urllib.request.urlopen(request) as answer:
                assert 201 == answer.status
                session = json.loads(answer.read())
            sid = session["checkoutSessionId"]
            apfsm_server.approve(sid)
            assert apfsm_server.simulator.object_ids() == [sid]
            before = apfsm_server.simulator.now()
            apfsm_server.advance(days=8)
            assert 8 == (apfsm_server.simulator.now() - before).days
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_server_fixture_knows_the_control_token(pytester: pytest.Pytester) -> None:
    # issue 16 item 5: with the marker the control API demands the token; the helpers send it.
    pytester.makepyfile(
        """
        import urllib.error
        import urllib.request

        import pytest

        @pytest.mark.apfsm(control_token="s3cret")
        def test_protected(apfsm_server):
            assert {"authorization": "Bearer s3cret"} == apfsm_server.control_headers
            assert apfsm_server.advance(days=1)["now"]
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(apfsm_server.url + "/_apfsm/clock")
            assert 401 == refused.value.code
            refused.value.close()  # the error holds the answer's socket
            request = urllib.request.Request(
                apfsm_server.url + "/_apfsm/clock", headers=apfsm_server.control_headers
            )
            with urllib.request.urlopen(request) as answer:
                assert 200 == answer.status

        def test_open(apfsm_server):
            assert apfsm_server.control_token is None
            with urllib.request.urlopen(apfsm_server.url + "/_apfsm/clock") as answer:
                assert 200 == answer.status
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_hypothesis_profiles_are_shipped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from hypothesis import settings

        def test_profile():
            current = settings()
            assert (200, True, None) == (
                current.max_examples, current.derandomize, current.database
            )
        """
    )
    result = pytester.runpytest("-q", "--hypothesis-profile", "apfsm-ci")
    result.assert_outcomes(passed=1)
    for name, examples in (("apfsm-dev", 100), ("apfsm-fuzz", 5000)):
        pytester.makepyfile(
            f"""
            from hypothesis import settings

            def test_profile():
                assert {examples} == settings().max_examples
            """
        )
        pytester.runpytest("-q", "--hypothesis-profile", name).assert_outcomes(passed=1)


def test_the_pages_example_test_file_passes_in_a_project_of_its_own(
    pytester: pytest.Pytester,
) -> None:
    # docs/pytest-plugin.md's example file, as a user saves it (issue 13: a page per way
    # in, with runnable examples): the server fixture, the marker and the mock fixture.
    page = Path(__file__).resolve().parents[1] / "docs" / "pytest-plugin.md"
    blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)
    assert 1 == len(blocks)
    pytester.makepyfile(test_amazon_pay=blocks[0])
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_a_failing_integration_test_prints_how_to_reproduce_it(pytester: pytest.Pytester) -> None:
    """Under apfsm's profiles (print_blob=True) a failing IntegrationMachine prints the
    ``@reproduce_failure`` line and apfsm's story and trace; Hypothesis's default profile
    does not print the line (the fuzzing guide says so)."""
    pytester.makepyfile(
        """
        from apfsm.examples.shop.buggy_shop import BuggyShop
        from apfsm.examples.shop.test_shop import ShopMachine

        class Buggy(ShopMachine):
            trace_dir = "traces"

            def make_shop(self):
                return BuggyShop(self.sim, now=self.sim.now, bugs={"capture_adds_shipping_fee"})

        TestBuggy = Buggy.TestCase
        """
    )
    for profile, blob in (("apfsm-dev", True), ("default", False)):
        result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--hypothesis-profile", profile)
        result.assert_outcomes(failed=1)
        text = result.stdout.str()
        assert ("@reproduce_failure(" in text) is blob, text[-3000:]
        assert "apfsm story of this run" in text
        assert "apfsm trace of this run: traces/Buggy.json" in text
