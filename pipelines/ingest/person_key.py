"""The person key: HMAC-SHA256(secret, normalised 18-character ID) as hex.

Shared by ingest (raw layer) and publishing; the secret comes from `Settings.pii_key()`.
`person_keys` computes the same HMAC column-wise in DuckDB (millions of registry rows).
"""

from __future__ import annotations

import functools
import hashlib
import hmac

import duckdb
import polars as pl

_BLOCK = 64  # SHA-256 block size (RFC 2104)


def person_key(key: bytes, id_number: str) -> str:
    return hmac.digest(key, id_number.encode("ascii"), hashlib.sha256).hex()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    block = (hashlib.sha256(key).digest() if len(key) > _BLOCK else key).ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


@functools.cache
def _hashing_database() -> duckdb.DuckDBPyConnection:
    """One in-memory database for the process: opening one takes tens of milliseconds, a cursor on it one."""
    return duckdb.connect()


def person_keys(key: bytes, id_numbers: pl.Series) -> pl.Series:
    """Keys for a column of normalised IDs (null stays null): H(k^opad || H(k^ipad || id))."""
    inner, outer = _pads(key)
    ids = pl.DataFrame({"id": id_numbers.cast(pl.String)})
    # Each distinct ID is hashed once: the same persons recur in every month's sheet and export.
    distinct = ids.unique().drop_nulls()
    with _hashing_database().cursor() as con:
        con.register("ids", distinct.to_arrow())
        keys = con.sql(
            "SELECT id, sha256($outer || unhex(sha256($inner || encode(id)))) AS person_key FROM ids",
            params={"inner": inner, "outer": outer},
        ).to_arrow_table()
    return ids.join(pl.from_arrow(keys), on="id", how="left", maintain_order="left")["person_key"]
