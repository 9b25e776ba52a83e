"""One spelling of everything (issue 14 item 4): every spelling of an object type apfsm
prints or Amazon sends is accepted wherever an object type is taken — ``Charge`` (the
declarations, ``apfsm tables``), ``charge`` and ``charge_permission`` (diagram files),
``CHARGE_PERMISSION`` (an IPN's ``ObjectType``)."""

from __future__ import annotations

import io

import pytest

from apfsm import LIFECYCLES, check_transition, explore
from apfsm._cli import main
from apfsm._docs import lifecycle_table
from apfsm._spec import object_type_named
from apfsm.diagrams import render
from tests.simhelpers import checkout, make_sim


def _spellings(object_type: str) -> set[str]:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in object_type).lstrip("_")
    return {object_type, snake, snake.upper(), object_type.lower(), snake.replace("_", "-")}


@pytest.mark.parametrize("object_type", list(LIFECYCLES))
def test_every_spelling_names_the_type(object_type: str) -> None:
    spellings = _spellings(object_type)
    assert len(spellings) >= 3
    assert {object_type} == {object_type_named(name) for name in spellings}


def test_the_ipn_spelling_is_the_one_notifications_carry() -> None:
    sim = make_sim()
    checkout(sim)
    kinds = {message["ObjectType"] for message in sim.notifications}
    assert {"CHARGE_PERMISSION", "CHARGE"} <= kinds
    assert {"ChargePermission", "Charge"} <= {object_type_named(kind) for kind in kinds}


@pytest.mark.parametrize("name", ["", "Charges", "order", "CHARGE PERMISSION", "_"])
def test_an_unknown_name_lists_the_types(name: str) -> None:
    with pytest.raises(ValueError, match="object types are CheckoutSession, ChargePermission"):
        object_type_named(name)


def test_every_public_entry_point_takes_every_spelling() -> None:
    assert check_transition("CHARGE", "Authorized", "Captured")
    assert check_transition("charge_permission", "Chargeable", "Closed")
    sim = make_sim()
    done = checkout(sim)
    cp = done["chargePermissionId"]
    assert [cp] == sim.object_ids("CHARGE_PERMISSION") == sim.object_ids("ChargePermission")
    assert [done["chargeId"]] == sim.object_ids("charge")
    assert explore(object_types=["REFUND"]).ok
    assert lifecycle_table("refund") == lifecycle_table("Refund")
    assert render("CHARGE_PERMISSION", "mermaid") == render("ChargePermission", "mermaid")


def test_the_command_line_takes_every_spelling() -> None:
    outputs = []
    for name in ("Refund", "refund", "REFUND"):
        out = io.StringIO()
        assert 0 == main(["tables", name], out=out)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
    out = io.StringIO()
    assert 2 == main(["tables", "Order"], out=out)
