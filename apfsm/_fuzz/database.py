"""Hypothesis's example database, chosen from a spec (``apfsm fuzz --database WHERE``,
``pytest --apfsm-database WHERE``): where shrunk failures are saved and replayed from.

* a directory path — ``DirectoryBasedExampleDatabase`` (one machine; workers share it);
* ``redis://host:port/db`` — ``hypothesis.extra.redis.RedisExampleDatabase`` (the ``redis``
  package, the ``scale`` extra): many machines share it;
* ``:memory:`` — ``InMemoryExampleDatabase``: nothing outlives the process.

The command line's default is ``$APFSM_DATABASE``, else ``apfsm-examples`` inside
Hypothesis's storage directory — never ``.hypothesis/`` in the working directory, since the
command line points Hypothesis's storage at a temporary directory unless
``$HYPOTHESIS_STORAGE_DIRECTORY`` says where (``default_database_spec``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    InMemoryExampleDatabase,
)

from apfsm._extras import missing_extra

__all__ = [
    "DATABASE_VARIABLE",
    "MEMORY",
    "DatabaseError",
    "default_database_spec",
    "hypothesis_storage",
    "open_database",
]

#: The environment variable naming the command line's default example database.
DATABASE_VARIABLE: Final = "APFSM_DATABASE"
#: The spec of an in-memory database.
MEMORY: Final = ":memory:"
_REDIS_SCHEMES: Final = ("redis", "rediss")


class DatabaseError(ValueError):
    """A database spec that names no usable database: malformed, a file where a directory
    should be, or a redis server that does not answer. The message says which and why."""


def hypothesis_storage(*names: str) -> Path:
    """``names`` inside Hypothesis's storage directory (``$HYPOTHESIS_STORAGE_DIRECTORY``,
    or what ``set_hypothesis_home_dir`` set, else ``.hypothesis``), without creating it.

    ``hypothesis.configuration.storage_directory`` returned a ``Path`` up to 6.13x and a
    ``StorageDirectory`` (``.path``) taking ``intent_to_write`` since: both are read."""
    from hypothesis import configuration  # noqa: PLC0415  (only for this)

    storage = configuration.storage_directory
    try:
        where = storage(*names, intent_to_write=False)  # type: ignore[call-arg, unused-ignore]
    except TypeError:  # an older Hypothesis: no intent_to_write
        where = storage(*names)
    return Path(str(getattr(where, "path", where)))


def default_database_spec() -> str:
    """The command line's example database: ``$APFSM_DATABASE``, else ``apfsm-examples``
    in Hypothesis's storage directory."""
    return os.environ.get(DATABASE_VARIABLE) or str(hypothesis_storage("apfsm-examples"))


def open_database(spec: str) -> ExampleDatabase:
    """The example database ``spec`` names (module docs).

    Raises:
        DatabaseError: the spec is empty or malformed, the directory cannot be made, or the
            redis server does not answer.
        ImportError: a ``redis://`` spec without the ``redis`` package (the ``scale`` extra).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise DatabaseError(
            f"example database {spec!r}: give a directory, redis://host:port/db or {MEMORY}"
        )
    if spec == MEMORY:
        return InMemoryExampleDatabase()
    scheme = urlsplit(spec).scheme
    if scheme in _REDIS_SCHEMES:
        return _redis(spec)
    if "://" in spec:
        raise DatabaseError(
            f"example database {spec!r}: unknown scheme {scheme!r} (a directory, "
            f"redis://host:port/db or {MEMORY})"
        )
    return _directory(spec)


def _directory(spec: str) -> ExampleDatabase:
    path = Path(spec).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise DatabaseError(f"example database {spec!r}: not a directory") from None
    except OSError as exc:
        raise DatabaseError(
            f"example database {spec!r}: cannot make the directory: {exc.strerror or exc}"
        ) from None
    return DirectoryBasedExampleDatabase(str(path))


def _redis(spec: str) -> ExampleDatabase:
    parts = urlsplit(spec)
    try:
        port = parts.port or 6379
    except ValueError:
        raise DatabaseError(f"example database {spec!r}: the port is not a number") from None
    host = parts.hostname
    if not host:
        raise DatabaseError(f"example database {spec!r}: no host (redis://host:port/db)")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise DatabaseError(
            f"example database {spec!r}: the database {db!r} is not a number (redis://host:port/0)"
        )
    try:
        import redis  # noqa: PLC0415  (the scale extra)
        from hypothesis.extra.redis import RedisExampleDatabase  # noqa: PLC0415
    except ImportError as missing:
        raise missing_extra("scale", "a redis example database", missing) from None
    client = redis.Redis.from_url(spec, db=int(db), socket_connect_timeout=3, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise DatabaseError(
            f"example database {spec!r}: redis at {host}:{port} does not answer ({exc})"
        ) from None
    return RedisExampleDatabase(client)
