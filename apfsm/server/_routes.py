"""Routes (SPEC §1), derived from the operation declarations: moto's ``urls.py``.

Which operation a path and a method call for (the Reports API's too, from
``REPORT_OPERATIONS``), the prefixes the API is also served under, and
the Amazon Pay APIs apfsm answers as out of scope rather than unknown.
"""

from __future__ import annotations

from typing import Final

from apfsm._errors import ApiError
from apfsm._spec import OPERATIONS, REPORT_OPERATIONS, Operation

# Prefixes the API is also served under (SPEC §1: keys whose id starts LIVE/SANDBOX call
# /v2/..., other keys /live/v2/... or /sandbox/v2/...).
_PREFIXES: Final = frozenset({"live", "sandbox"})

# Amazon Pay v2 APIs apfsm does not simulate: answered UnsupportedOperation 405 (SPEC §8),
# so a client learns the call exists but is out of scope, rather than ResourceNotFound
# (``GET /v2/buyers/{buyerToken}``, Get Buyer, is served: a declared route matches first).
_UNSIMULATED_ROOTS: Final = frozenset(
    {
        "buyers",
        "authorizationTokens",
        "merchantAccounts",
        "disputes",
        "files",
    }
)
_UNSIMULATED_ACTIONS: Final[frozenset[tuple[str, str]]] = frozenset()  # Finalize is served
# (method, template) of an unsimulated call on a served path; none since Update Charge is.
_UNSIMULATED_METHODS: Final[frozenset[tuple[str, tuple[str | None, ...]]]] = frozenset()

# apfsm's own paths, beside Amazon's: the control endpoints and the OpenAPI document.
_CONTROL: Final = "/_apfsm"
_OPENAPI_PATH: Final = "/openapi.json"


def _segments(path: str) -> tuple[str | None, ...]:
    """A path template's segments, ``None`` for a ``{parameter}``."""
    return tuple(
        None if part.startswith("{") else part for part in path.strip("/").split("/") if part
    )


# template segments -> {method: operation}
_ROUTES: Final[dict[tuple[str | None, ...], dict[str, Operation]]] = {}
for _op in OPERATIONS.values():
    _ROUTES.setdefault(_segments(_op.path), {})[_op.method] = _op
del _op


def _resolve(path: str) -> tuple[tuple[str | None, ...], str | None] | ApiError:
    """The route template ``path`` matches (a key of ``_ROUTES``) and the id in it, or the
    error for a path that is not an operation (SPEC §1, §8)."""
    parts = path.strip("/").split("/")  # a trailing slash is fine: the .NET SDK sends one
    if parts and parts[0] in _PREFIXES:
        parts = parts[1:]
    if len(parts) < 2 or parts[0] != "v2" or "" in parts:
        return ApiError.from_code("ResourceNotFound", f"no Amazon Pay API v2 resource at {path}")
    parts = parts[1:]
    for template in _ROUTES:
        if len(template) != len(parts):
            continue
        object_id = None
        for want, got in zip(template, parts, strict=True):
            if want is None:
                object_id = got
            elif want != got:
                break
        else:
            return template, object_id
    if parts[0] in _UNSIMULATED_ROOTS or (parts[0], parts[-1]) in _UNSIMULATED_ACTIONS:
        return ApiError.from_code(
            "UnsupportedOperation", f"apfsm does not simulate {'/'.join(['', 'v2', *parts])}"
        )
    return ApiError.from_code("ResourceNotFound", f"no Amazon Pay API v2 resource at {path}")


# The Reports API (docs/reports.md): (root, whether the path has an id) -> {method: the
# name of a ``REPORT_OPERATIONS`` entry}; /v2/reports, /v2/report-schedules and
# /v2/report-documents/{id} as in Amazon's reports.html and the Node SDK's client.js.
_REPORT_ROUTES: Final[dict[tuple[str, bool], dict[str, str]]] = {}
for _rop in REPORT_OPERATIONS.values():
    _parts = _rop.path.strip("/").split("/")
    _REPORT_ROUTES.setdefault((_parts[0], len(_parts) == 2), {})[_rop.method] = _rop.name
del _rop, _parts
_REPORT_ROOTS: Final = frozenset(root for root, _ in _REPORT_ROUTES)


def _report_route(method: str, path: str) -> tuple[str | None, str | None, str] | None:
    """For a Reports API path: the operation ``method`` calls there (None when the path
    does not take it: 405), the id in the path, and the methods it takes (an Allow
    header); None for a path outside the Reports API."""
    parts = path.strip("/").split("/")
    if parts and parts[0] in _PREFIXES:
        parts = parts[1:]
    if len(parts) not in (2, 3) or parts[0] != "v2" or parts[1] not in _REPORT_ROOTS:
        return None
    if "" in parts:
        return None  # /v2/reports//: not a resource (ResourceNotFound)
    methods = _REPORT_ROUTES.get((parts[1], len(parts) == 3))
    if methods is None:  # /v2/report-documents: only by id
        return None
    object_id = parts[2] if len(parts) == 3 else None
    return methods.get(method), object_id, ", ".join(sorted(methods))
