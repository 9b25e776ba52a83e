"""The OpenAPI 3 document of the served API, from the declarations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from apfsm._spec import (
    BODIES,
    DISPUTE_RESOLUTIONS,
    ERRORS,
    FILE_PURPOSES,
    FILE_TYPES,
    LIFECYCLES,
    OPERATIONS,
    SIMULATION_CODES,
    BodyField,
    Limits,
    Operation,
)

from ._endpoints import _control_paths
from ._openapi_reports import _report_paths, _report_schemas

_REF: Final = "#/components/schemas/"


def _whole(core: str) -> str:
    """A JSON-schema ``pattern`` that the whole string must match, in every engine.

    Validators search (``re.search``), and Python's ``$`` also matches before a final
    newline, so ``^0$`` accepts ``"0\n"``; ``(?!\n)`` after ``$`` refuses that there and is
    a no-op in ECMA-262, whose ``$`` is the end of the text (issue 16)."""
    return f"^(?:{core})$(?!\n)"


_TIMESTAMP: Final = {"type": "string", "pattern": _whole("[0-9]{8}T[0-9]{6}Z")}
_NULLABLE_STRING: Final = {"type": ["string", "null"]}


def _field_schema(field: BodyField, limits: Limits) -> dict[str, Any]:
    if field.kind == "price":
        return {"$ref": f"{_REF}Price"}
    if field.kind == "bool":
        return {"type": "boolean"}
    if field.kind == "str":
        schema: dict[str, Any] = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = getattr(limits, field.max_length)
        return schema
    if field.kind == "enum":
        return {"type": "string", "enum": list(field.choices)}
    if field.kind == "object":
        return _fields_schema(field.fields, limits)
    if field.kind == "object_list":
        return {"type": "array", "items": _fields_schema(field.fields, limits)}
    if field.kind == "opaque":
        return {"type": "object", "description": "stored and echoed back as it is"}
    if field.kind == "opaque_list":
        return {"type": "array", "items": {"type": "object"}}
    if field.kind == "str_list":
        return {"type": "array", "items": {"type": "string"}}
    if field.kind == "currency":
        return {"type": "string", "enum": sorted(limits.currency_decimals)}
    raise AssertionError(f"unknown body field kind {field.kind!r}")  # pragma: no cover


def _fields_schema(fields: Sequence[BodyField], limits: Limits) -> dict[str, Any]:
    # SPEC §10: any other field is UnrecognizedField, at every depth of a declared object.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: _field_schema(f, limits) for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def _status_schema(object_type: str) -> dict[str, Any]:
    lifecycle = LIFECYCLES[object_type]
    states = [s for s in lifecycle.states if not s.virtual]
    reasons = sorted({r for s in states for r in s.reasons})
    properties: dict[str, Any] = {
        "state": {"type": "string", "enum": [s.name for s in states]},
        "lastUpdatedTimestamp": _TIMESTAMP,
    }
    if object_type == "ChargePermission":
        # SPEC §1: a Charge Permission can hold several reasons at once.
        properties["reasons"] = {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["reasonCode"],
                "properties": {
                    "reasonCode": {"type": "string", "enum": reasons},
                    "reasonDescription": _NULLABLE_STRING,
                },
            },
        }
    else:
        properties["reasonCode"] = {"enum": [*reasons, None]}  # null outside reasoned states
        properties["reasonDescription"] = _NULLABLE_STRING
    if object_type == "Dispute":  # who it was decided for (dispute.html)
        properties["resolution"] = {"enum": [*DISPUTE_RESOLUTIONS, None]}
    return {"type": "object", "required": sorted(properties), "properties": properties}


_BUYER_STRINGS: Final = ("name", "email", "postalCode", "countryCode", "phoneNumber")


def _buyer_schema() -> dict[str, Any]:
    # Get Buyer (buyer.html): no statusDetails; every key present, null unless a sign-in
    # scope shares it (docs/buyer.md).
    nullable_object = {"type": ["object", "null"]}
    return {
        "type": "object",
        "description": LIFECYCLES["Buyer"].description,
        "required": ["buyerId"],
        "properties": {
            "buyerId": {"type": "string", "pattern": "^amzn1\\.account\\."},
            **dict.fromkeys(_BUYER_STRINGS, _NULLABLE_STRING),
            "shippingAddress": nullable_object,
            "billingAddress": nullable_object,
            "primeMembershipTypes": {"type": ["array", "null"]},
        },
    }


#: Upload File's answer (file.html's File object; docs/dispute.md).
_FILE_SCHEMA: Final = {
    "type": "object",
    "description": "an evidence file's id and the URL to PUT it to (file.html)",
    "required": ["id", "type", "purpose", "url", "size", "uploadTimestamp"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": list(FILE_TYPES)},
        "purpose": {"type": "string", "enum": list(FILE_PURPOSES)},
        "url": {"type": "string"},
        "size": {"type": "integer"},
        "uploadTimestamp": _TIMESTAMP,
        "urlExpirationTimestamp": _TIMESTAMP,
    },
}


def _object_schema(object_type: str) -> dict[str, Any]:
    if object_type == "Buyer":
        return _buyer_schema()
    id_field = LIFECYCLES[object_type].id_field
    return {
        "type": "object",
        "description": LIFECYCLES[object_type].description,
        "required": [id_field, "statusDetails", "creationTimestamp"],
        "properties": {
            id_field: {"type": "string"},
            "statusDetails": _status_schema(object_type),
            "creationTimestamp": _TIMESTAMP,
            "releaseEnvironment": {"type": "string", "enum": ["Sandbox", "Live"]},
        },
    }


def _title(name: str) -> str:
    return " ".join(word.capitalize() for word in name.split("_"))


#: The other objects' ids an answer carries (its JSON's keys, ``_sim/shapes.py``): a
#: completed session its permission and charge, a charge its permission, a refund its charge.
_PARENT_IDS: Final = {
    "CheckoutSession": ("chargePermissionId", "chargeId"),
    "Charge": ("chargePermissionId",),
    "Refund": ("chargeId",),
    "Dispute": ("chargeId",),
}


def _ids_in(object_type: str) -> set[str]:
    """The ids an answer of ``object_type`` carries: its own and its parents'."""
    if object_type == "File":  # Upload File's answer: its id is a fileId, not a path id
        return set()
    return {*_object_schema(object_type)["properties"], *_PARENT_IDS.get(object_type, ())}


def _links(properties: set[str]) -> dict[str, Any]:
    """OpenAPI links from an answer carrying the ids ``properties`` to every operation
    whose path takes one (a created session → get, update, complete it; a charge →
    capture, cancel, its permission): how a stateful client (schemathesis) chains calls."""
    links: dict[str, Any] = {}
    for op in OPERATIONS.values():
        names = [part[1:-1] for part in op.path.split("/") if part.startswith("{")]
        if len(names) == 1 and names[0] in properties:
            links[_title(op.name).replace(" ", "")] = {
                "operationId": op.name,
                "parameters": {names[0]: f"$response.body#/{names[0]}"},
            }
    return links


def _operation_document(op: Operation, limits: Limits) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in op.path.split("/")
        if part.startswith("{")
    ]
    if op.method == "POST":
        # SPEC §7: required over HTTP; 1 to 32 characters of A-Za-z0-9-_.
        parameters.append(
            {
                "name": "x-amz-pay-idempotency-key",
                "in": "header",
                "required": True,
                "schema": {
                    "type": "string",
                    "pattern": _whole(f"[A-Za-z0-9_-]{{1,{limits.idempotency_key_max_length}}}"),
                },
            }
        )
    codes = SIMULATION_CODES.get(op.name)
    if codes:
        parameters.append(
            {
                "name": "x-amz-pay-simulation-code",
                "in": "header",
                "required": False,
                "description": "sandbox simulation (SPEC §7)",
                "schema": {"type": "string", "enum": list(codes)},
            }
        )
    # Upload File answers a File (file.html), an object with no lifecycle.
    returns = op.creates or op.target or "File"
    # A Delivery Tracker answer is not its permission: its id and the details sent back.
    answer = "DeliveryTracker" if op.name == "create_delivery_tracker" else returns
    content = {"application/json": {"schema": {"$ref": f"{_REF}{answer}"}}}
    statuses = {op.success_status} | {
        c.http_status
        for lc in LIFECYCLES.values()
        for c in lc.creations
        if c.operation == op.name and c.http_status is not None
    }
    links = _links(_ids_in(returns) if answer == returns else {"chargePermissionId"})
    responses: dict[str, Any] = {
        str(status): {
            "description": "accepted" if status == 202 else "success",
            "content": content,
            **({"links": links} if links else {}),
        }
        for status in sorted(statuses)
    }
    error = {"content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}}}
    responses["4XX"] = {"description": "refused (SPEC §8)", **error}
    responses["5XX"] = {"description": "Amazon-side failure (SPEC §8)", **error}
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": _title(op.name),
        "tags": [returns],
        "parameters": parameters,
        "responses": responses,
    }
    if not op.is_read:
        document["requestBody"] = {
            "required": op.method in ("POST", "PATCH"),
            "content": {
                "application/json": {
                    "schema": {"$ref": f"{_REF}{_title(op.name).replace(' ', '')}Request"}
                }
            },
        }
    return document


def openapi(limits: Limits | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the served API, derived from the declarations.

    Paths and methods come from ``apfsm.OPERATIONS`` and the Reports API's
    ``REPORT_OPERATIONS`` (under ``/v2``; also served under ``/live/v2`` and
    ``/sandbox/v2``), request bodies from ``apfsm.BODIES``, states and reason codes of the
    response objects from ``apfsm.LIFECYCLES``, error codes from ``apfsm.ERRORS``. The
    control endpoints (``/_apfsm``, tagged ``Control``) follow, from their own table
    (``server/_endpoints.py``): their bodies, query parameters and answers.

    Args:
        limits: lengths, currencies and key sizes come from here (SPEC's by default).

    Returns:
        The document as a JSON-serialisable dict (deterministic: ``docs/openapi.json``).
    """
    limits = Limits() if limits is None else limits
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "description": "Amazon Pay's error body (SPEC §1, §8)",
            "required": ["reasonCode", "message"],
            "properties": {
                "reasonCode": {"type": "string", "enum": sorted(ERRORS)},
                "message": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "Price": {
            "type": "object",
            "description": "an amount as a decimal string in major units, with at most the "
            "currency's decimals and above zero (SPEC §1); requests may also send the amount "
            "as a JSON number with such a text (SPEC §1 rev 2); answers always send strings",
            "required": ["amount", "currencyCode"],
            "properties": {
                # The amount rule of apfsm/_decide/money.py (any number of decimals here:
                # how many a currency takes is checked by the API, not by this schema).
                "amount": {"type": "string", "pattern": _whole("(0|[1-9][0-9]*)(\\.[0-9]+)?")},
                "currencyCode": {"type": "string", "enum": sorted(limits.currency_decimals)},
            },
            "additionalProperties": False,
        },
    }
    for object_type in LIFECYCLES:
        schemas[object_type] = _object_schema(object_type)
    schemas["File"] = _FILE_SCHEMA
    schemas["DeliveryTracker"] = {
        "type": "object",
        "description": "a Delivery Tracker's answer: the permission's id and the delivery "
        "details sent",
        "required": ["chargePermissionId", "deliveryDetails"],
        "properties": {
            "chargePermissionId": {"type": "string"},
            "deliveryDetails": {"type": "array"},
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS.values():
        if not op.is_read:
            schemas[f"{_title(op.name).replace(' ', '')}Request"] = _fields_schema(
                BODIES[op.name], limits
            )
        paths.setdefault(f"/v2{op.path}", {})[op.method.lower()] = _operation_document(op, limits)
    schemas.update(_report_schemas(limits, _TIMESTAMP))  # docs/reports.md
    paths.update(_report_paths(limits, _TIMESTAMP))
    paths.update(_control_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Amazon Pay API v2 (apfsm simulator)",
            "version": "v2",
            "description": "The Amazon Pay API v2 as apfsm serves it (`apfsm serve`). Every "
            "path is also served under /live and /sandbox. POST requests need an "
            "x-amz-pay-idempotency-key header (the Reports API's take one and replay on it "
            "but do not need it: docs/reports.md); with a public key configured, requests must "
            "be signed (AMZN-PAY-RSASSA-PSS or AMZN-PAY-RSASSA-PSS-V2). The paths tagged "
            "Control (/ and /_apfsm/...) are apfsm's own: the buyer's and Amazon's side, the "
            "clock, IPN faults, inspection, reset and snapshots; they need no signature.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "controlToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "apfsm serve --control-token TOKEN: the control "
                    "endpoints but the index need it (the API never does)",
                }
            },
        },
    }
