"""Request signatures: the canonical request the official SDKs sign, and its verifier."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from apfsm._clock import Clock, SystemClock, format_duration
from apfsm._errors import ApiError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: Signature algorithms and their RSASSA-PSS salt lengths, as the official SDKs sign.
ALGORITHMS: Final[Mapping[str, int]] = MappingProxyType(
    {"AMZN-PAY-RSASSA-PSS": 20, "AMZN-PAY-RSASSA-PSS-V2": 32}
)


#: How old an ``x-amz-pay-date`` may be, by this machine's clock, before it is refused. Amazon
#: Pay documents no figure; 15 minutes is what Amazon's other signed APIs allow (AWS
#: Signature Version 4; Amazon MWS: "requests with a timestamp significantly different (15
#: minutes) than the receiving machine's clock will be rejected"). docs/server.md, Signatures.
DEFAULT_MAX_CLOCK_SKEW: Final = timedelta(minutes=15)

#: Headers every signature must cover: each official SDK signs both (Node ``clientHelper.js``,
#: PHP ``Client.php``, Java ``SignatureHelper.java``, .NET ``SignatureHelper.cs``), and a
#: signature that leaves the date out could be replayed for ever.
_ALWAYS_SIGNED: Final = ("x-amz-pay-date", "x-amz-pay-host")
#: Signed whenever it is sent (PHP ``Client.php``: "x-amz-pay-idempotency-key is a special
#: user-supplied header that must be pre-signed if used"): unsigned, a replayed request could
#: carry a fresh key and be done twice.
_SIGNED_WHEN_SENT: Final = ("x-amz-pay-idempotency-key",)

# The SDKs' two formats: yyyyMMdd'T'HHmmss'Z' (PHP getFormattedTimestamp, Java and .NET
# Util) and ISO 8601's extended yyyy-MM-dd'T'HH:mm:ss'Z' (Node getTimestamp:
# toISOString() without the milliseconds). Amazon takes both.
_DATE_FORMATS: Final = (
    (re.compile(r"\A\d{8}T\d{6}Z\Z"), "%Y%m%dT%H%M%SZ"),
    (re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z"), "%Y-%m-%dT%H:%M:%SZ"),
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
    """Checks ``authorization`` headers against one RSA public key (issue 6, item 5; what a
    signature must bind, issue 16 item 4).

    Args:
        key: the public key.
        key_id: the ``PublicKeyId`` the key is registered under; another is refused. None:
            any non-empty id.
        max_skew: how old ``x-amz-pay-date`` may be; None: the date is not compared with the
            clock at all (a date in the future is then accepted too).
        clock: the clock dates are compared with: the wall clock — what the SDKs sign with
            and what Amazon compares with — never the simulator's (which stands still).
    """

    def __init__(
        self,
        key: RSAPublicKey,
        *,
        key_id: str | None = None,
        max_skew: timedelta | None = DEFAULT_MAX_CLOCK_SKEW,
        clock: Clock | None = None,
    ) -> None:
        if key_id is not None and (not isinstance(key_id, str) or not key_id.strip()):
            raise ValueError(f"public_key_id must be a non-empty string, got {key_id!r}")
        if max_skew is not None and max_skew <= timedelta(0):
            raise ValueError(f"max_clock_skew must be positive (or None), got {max_skew}")
        self._key = key
        self.key_id = key_id
        self.max_skew = max_skew
        self._clock: Clock = SystemClock() if clock is None else clock

    def _date_fault(self, value: str) -> ApiError | None:
        """``x-amz-pay-date`` read and compared with the clock: its error, or None."""
        form = next((form for pattern, form in _DATE_FORMATS if pattern.match(value)), None)
        try:
            if form is None:
                raise ValueError(value)
            signed_at = datetime.strptime(value, form).replace(tzinfo=UTC)
        except ValueError:  # not the format, or no such instant (month 13, say)
            return ApiError.from_code(
                "InvalidHeaderValue",
                f"The value {value} provided for x-amz-pay-date is invalid: it must read "
                "YYYYMMDDTHHMMSSZ or YYYY-MM-DDTHH:MM:SSZ (UTC)",
            )
        if self.max_skew is None:
            return None
        # The date has whole seconds (the SDKs truncate): "now" is compared to the second.
        now = self._clock.now().replace(microsecond=0)
        if signed_at > now:
            # Amazon's words, as users of its PHP SDK report them (amzn/amazon-pay-api-sdk-php
            # issue 19; amzn/amazon-payments-magento-2-plugin issue 1103): 400.
            return ApiError.from_code(
                "InvalidHeaderValue",
                f"The value {value} provided for x-amz-pay-date should not be in future",
            )
        if now - signed_at > self.max_skew:
            # Amazon's code for the same header (its words for this case are not on record).
            return ApiError.from_code(
                "InvalidHeaderValue",
                f"The value {value} provided for x-amz-pay-date is more than "
                f"{format_duration(self.max_skew)} old: sign each request when it is sent",
            )
        return None

    def _binding_fault(
        self, fields: Mapping[str, str], signed: Sequence[str], headers: Mapping[str, str]
    ) -> ApiError | None:
        """The key id and the signed-header list: what the signature must name and bind."""
        key_id = fields.get("PublicKeyId", "").strip()
        if not key_id:
            return ApiError.from_code(
                "InvalidRequestSignature", "the authorization header names no PublicKeyId"
            )
        if self.key_id is not None and key_id != self.key_id:
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"Unable to verify signature: no public key is registered under PublicKeyId "
                f"{key_id!r}",
            )
        sent = [n for n in _SIGNED_WHEN_SENT if headers.get(n, "").strip()]
        required = [*_ALWAYS_SIGNED, *sent]
        if not signed:
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"SignedHeaders is empty: it must list {', '.join(required)}",
            )
        missing = [name for name in required if name not in signed]
        if missing:
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"SignedHeaders must list {', '.join(missing)} (signed: {';'.join(signed)})",
            )
        return None

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
        date_fault = self._date_fault(headers["x-amz-pay-date"].strip())
        if date_fault is not None:
            return date_fault
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
        binding_fault = self._binding_fault(fields, signed, headers)
        if binding_fault is not None:
            return binding_fault
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
            # Amazon's own words, as users of its SDKs quote the answer (amzn/
            # amazon-pay-api-sdk-dotnet issue #4, amzn/amazon-pay-api-sdk-php issue #45):
            # the string it signed (algorithm, newline, the canonical request's hash) and
            # the signature sent back, so the caller can compare with its own.
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"Unable to verify signature, signing String [{text}] , signature "
                f"[{fields['Signature'][:1000]}]",
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
