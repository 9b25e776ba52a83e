"""Request signatures: the canonical request the official SDKs sign, and its verifier."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from apfsm._errors import ApiError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: Signature algorithms and their RSASSA-PSS salt lengths, as the official SDKs sign.
ALGORITHMS: Final[Mapping[str, int]] = MappingProxyType(
    {"AMZN-PAY-RSASSA-PSS": 20, "AMZN-PAY-RSASSA-PSS-V2": 32}
)


def _canonical_query(raw: str) -> str:
    # The SDKs sign "name=value" pairs, encoded as they send them, sorted by name, joined by
    # "&"; the query string on the wire is that same text, so its pairs are sorted as sent.
    pairs = [pair for pair in raw.split("&") if pair]
    return "&".join(sorted(pairs, key=lambda pair: pair.partition("=")[0]))


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
) -> str:
    """The canonical request the Amazon Pay SDKs sign (Node, PHP, Java, .NET alike).

    Lines: the method; the path as sent; the query (pairs sorted by name); one
    ``name:value`` line per signed header, in the order of the signed-header list (the SDKs
    sort it, lower-cased); an empty line; the signed-header list joined by ``;``; the
    hex SHA-256 of the payload.

    Args:
        method: the HTTP method, upper case.
        path: the request path exactly as sent (not re-encoded).
        query: the raw query string, without ``?``.
        headers: the request headers by lower-case name; a signed header that is absent
            counts as empty.
        signed_headers: the lower-case names listed in ``SignedHeaders=``.
        payload: the raw request body.

    Returns:
        The canonical request text.
    """
    lines = [method, path, _canonical_query(query)]
    lines.extend(f"{name}:{headers.get(name, '')}" for name in signed_headers)
    digest = hashlib.sha256(payload).hexdigest()
    return "\n".join(lines) + "\n\n" + ";".join(signed_headers) + "\n" + digest


def string_to_sign(algorithm: str, canonical: str) -> str:
    """The string the SDKs sign: the algorithm name, a newline, the hex SHA-256 of
    ``canonical``."""
    return f"{algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def _parse_authorization(value: str) -> tuple[str, dict[str, str]] | None:
    """``ALGORITHM PublicKeyId=..., SignedHeaders=a;b, Signature=...`` as its parts."""
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, field = item.strip().partition("=")
        if not sep:
            return None
        fields[name] = field  # the base64 signature keeps its "=" padding
    if not {"SignedHeaders", "Signature"} <= fields.keys():
        return None
    return algorithm, fields


class _Verifier:
    """Checks ``authorization`` headers against one RSA public key (issue 6, item 5)."""

    def __init__(self, key: RSAPublicKey) -> None:
        self._key = key

    def check(
        self, method: str, path: str, query: str, headers: Mapping[str, str], payload: bytes
    ) -> ApiError | None:
        """None when the request is signed by the key's private half, else the error."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        # Absent is MissingHeader; present but empty or blank is MissingHeaderValue
        # (Amazon's error-handling page lists both).
        for name in ("authorization", "x-amz-pay-date"):
            value = headers.get(name)
            if value is None:
                return ApiError.from_code("MissingHeader", f"the {name} header is required")
            if not value.strip():
                return ApiError.from_code("MissingHeaderValue", f"the {name} header has no value")
        authorization = headers["authorization"]
        parsed = _parse_authorization(authorization)
        if parsed is None:
            return ApiError.from_code(
                "InvalidRequestSignature",
                "the authorization header must read 'ALGORITHM PublicKeyId=..., "
                "SignedHeaders=..., Signature=...'",
            )
        algorithm, fields = parsed
        salt = ALGORITHMS.get(algorithm)
        if salt is None:
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"unsupported signature algorithm {algorithm!r}; use {' or '.join(ALGORITHMS)}",
            )
        signed = [name.lower() for name in fields["SignedHeaders"].split(";") if name]
        text = string_to_sign(
            algorithm, canonical_request(method, path, query, headers, signed, payload)
        )
        try:
            signature = base64.b64decode(fields["Signature"], validate=True)
            self._key.verify(
                signature,
                text.encode(),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return ApiError.from_code(
                "InvalidRequestSignature",
                "the request signature does not match the canonical request signed with "
                f"{algorithm}",
            )
        return None


def _load_public_key(source: str | bytes | os.PathLike[str]) -> RSAPublicKey:
    """An RSA public key from PEM text or a PEM file.

    Raises:
        ValueError: not an RSA public key in PEM.
        OSError: the file cannot be read.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and "-----BEGIN" in source:
        data = source.encode()
    else:
        data = Path(source).read_bytes()
    try:
        key = load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(f"public_key is not a PEM public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"public_key must be an RSA key, got {type(key).__name__}")
    return key
