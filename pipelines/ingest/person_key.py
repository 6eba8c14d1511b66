"""The person key: HMAC-SHA256(secret, normalised 18-character ID) as hex.

Shared by ingest (raw layer) and publishing; the secret comes from `Settings.pii_key()`.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl


def person_key(key: bytes, id_number: str) -> str:
    return hmac.digest(key, id_number.encode("ascii"), hashlib.sha256).hex()


def person_keys(key: bytes, id_numbers: pl.Series) -> pl.Series:
    """Keys for a column of normalised IDs (null stays null); each distinct ID hashed once."""
    distinct = id_numbers.drop_nulls().unique()
    lookup = dict(zip(distinct.to_list(), (person_key(key, i) for i in distinct.to_list())))
    return id_numbers.replace_strict(lookup, default=None, return_dtype=pl.String).alias("person_key")
