"""The person key: HMAC-SHA256(secret, normalised 18-character ID) as hex.

Shared by ingest (raw layer) and publishing; the secret comes from `Settings.pii_key()`.
`person_keys` computes the same HMAC column-wise in DuckDB (millions of registry rows).
"""

from __future__ import annotations

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


def person_keys(key: bytes, id_numbers: pl.Series) -> pl.Series:
    """Keys for a column of normalised IDs (null stays null): H(k^opad || H(k^ipad || id))."""
    inner, outer = _pads(key)
    ids = pl.DataFrame({"id": id_numbers.cast(pl.String)})
    with duckdb.connect() as con:
        con.register("ids", ids.to_arrow())
        keys = con.sql(
            "SELECT sha256($outer || unhex(sha256($inner || encode(id)))) AS person_key FROM ids",
            params={"inner": inner, "outer": outer},
        ).to_arrow_table()
    return pl.from_arrow(keys).to_series().alias("person_key")
