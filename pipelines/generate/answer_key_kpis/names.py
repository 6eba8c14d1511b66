"""Facility-name matching within a town (docs/inputs.md, "Matching names").

Two names match when they are equal after normalising white space and full-width characters,
or after also dropping the town's full official name from their start. Comparing the
"facility key" (normalised, town prefix dropped) decides both at once: exact equality implies
equal keys, and 石船敬老院 / 石船镇敬老院 keep different keys (石船敬老院 / 敬老院).
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_WHITE_SPACE = re.compile(r"\s+")


def normalise_name(name: str | None) -> str | None:
    if name is None:
        return None
    text = _WHITE_SPACE.sub("", unicodedata.normalize("NFKC", name))
    return text or None


def facility_key(name: str | None, town_name: str) -> str | None:
    text = normalise_name(name)
    town = normalise_name(town_name) or ""
    if text is None:
        return None
    if town and text.startswith(town) and len(text) > len(town):
        return text[len(town) :]
    return text


def with_facility_key(
    frame: pl.DataFrame | pl.LazyFrame, name_column: str, towns: pl.DataFrame, key_column: str
) -> pl.DataFrame | pl.LazyFrame:
    """Add `key_column`, the facility key of `name_column` within the row's town_code."""
    pairs = (
        frame.lazy()
        .select("town_code", name_column)
        .unique()
        .join(towns.lazy().select("town_code", "town_name"), on="town_code", how="left")
        .collect()
    )
    keys = [
        facility_key(name, town_name or "")
        for name, town_name in zip(pairs[name_column].to_list(), pairs["town_name"].to_list())
    ]
    lookup = pairs.select("town_code", name_column).with_columns(pl.Series(key_column, keys, dtype=pl.String))
    if isinstance(frame, pl.LazyFrame):
        lookup = lookup.lazy()
    return frame.join(lookup, on=["town_code", name_column], how="left", nulls_equal=True)
