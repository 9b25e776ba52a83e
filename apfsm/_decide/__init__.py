"""One call decided: pure functions of (facts, body, instant, limits) → ``Outcome``.

The only importer of ``transitions`` (``machines``) compiles the declarations into decision
tables; ``engine.decide`` answers one call from them; ``rules`` says what each named guard,
deadline and check means; ``bodycheck`` validates request bodies (SPEC §8, §10);
``payloads`` reads API JSON into facts; ``money`` reads and writes amounts. The validator
gives it facts read from a payload, the simulator its own records: both answer alike.
"""

from .bodycheck import COMBINATIONS, Fault, body_fault, normalise_body
from .engine import constant_outcomes, created_states, decide, evolve, reachable, refusal_message
from .machines import COMPILED, Allowed, Compiled, Refusal, probe_model
from .money import Money, check_price, parse_money, refund_allowance, to_wire
from .payloads import payload_reader, read_payload
from .rules import CHECK_FUNCTIONS, DEADLINE_FUNCTIONS, GUARD_FUNCTIONS, Context

__all__ = [
    "CHECK_FUNCTIONS",
    "COMBINATIONS",
    "COMPILED",
    "DEADLINE_FUNCTIONS",
    "GUARD_FUNCTIONS",
    "Allowed",
    "Compiled",
    "Context",
    "Fault",
    "Money",
    "Refusal",
    "body_fault",
    "check_price",
    "constant_outcomes",
    "created_states",
    "decide",
    "evolve",
    "normalise_body",
    "parse_money",
    "payload_reader",
    "probe_model",
    "reachable",
    "read_payload",
    "refund_allowance",
    "refusal_message",
    "to_wire",
]
