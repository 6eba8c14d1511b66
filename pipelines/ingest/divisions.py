"""The division list (towns, villages, communities) names are resolved against.

Read from `Settings.divisions_file` (the built-in seed, or a city-scale list given with
`--divisions`). Village names are matched within their town, column-wise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

from pipelines.ingest.text import town_base

_COMMITTEE = r"(村民委员会|村委会|居民委员会|居委会)$"
_LEVEL_WORD = r"(村|社区)$"


def village_keys(name: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(short, base) match keys: 洛碛村村民委员会 / 洛碛村委会 / 洛碛村 -> (洛碛村 or 洛碛, 洛碛)."""
    short = name.str.normalize("NFKC").str.replace_all(r"\s+", "").str.replace(_COMMITTEE, "")
    return short, short.str.replace(_LEVEL_WORD, "")


@dataclass(frozen=True)
class Divisions:
    towns: dict[str, str]  # code -> official name (every town of the list)
    in_scope_towns: dict[str, str]
    districts: frozenset[str]  # the in-scope towns' parent_code
    places: pl.DataFrame  # town_code, place_code, level, short, base

    @classmethod
    def load(cls, path: Path) -> "Divisions":
        table = pl.read_csv(path, infer_schema=False)
        towns = table.filter(pl.col("level") == "town")
        in_scope = towns.filter(pl.col("is_rural_scope").str.to_lowercase().str.strip_chars() == "true")
        places = table.filter(pl.col("level").is_in(["village", "community"]))
        short, base = village_keys(pl.col("name"))
        places = places.select(
            town_code=pl.col("parent_code"),
            place_code=pl.col("code"),
            level=pl.col("level"),
            short=short,
            base=base,
        )
        return cls(
            towns=dict(zip(towns["code"], towns["name"])),
            in_scope_towns=dict(zip(in_scope["code"], in_scope["name"])),
            districts=frozenset(in_scope["parent_code"]),
            places=places,
        )

    @cached_property
    def town_lookup(self) -> pl.DataFrame:
        """Every accepted spelling of every town: (spelling, town_code); ambiguous bases dropped.
        Built once: each registry chunk resolves its towns with it."""
        rows = []
        for code, name in self.towns.items():
            rows += [(name, code), (town_base(name), code), (code, code)]
            rows += [(name + "人民政府", code), (name + "办事处", code)]
        frame = pl.DataFrame(rows, schema=["spelling", "town_code"], orient="row").unique()
        counts = frame.group_by("spelling").agg(pl.col("town_code").n_unique().alias("n"))
        return frame.join(counts.filter(pl.col("n") == 1).select("spelling"), on="spelling")

    def match_villages(self, frame: pl.DataFrame, town_col: str, name_col: str) -> pl.DataFrame:
        """Add `<name_col>__code` and `__level` for each row.

        Matched within the row's town: first on the short name (洛碛村), else on the base
        (洛碛) when that is unique in the town.
        """
        short, base = village_keys(pl.col(name_col))
        # Matched per distinct (town, name): thousands of pairs in millions of registry rows.
        keyed = frame.select(town_col, name_col).unique().with_columns(_short=short, _base=base)
        by_short = self.places.select(
            pl.col("town_code").alias(town_col), pl.col("short").alias("_short"),
            pl.col("place_code").alias("_c1"), pl.col("level").alias("_l1"),
        ).unique(subset=[town_col, "_short"], keep="none")
        unique_base = self.places.group_by("town_code", "base").agg(
            pl.col("place_code").first(), pl.col("level").first(), pl.len().alias("n")
        ).filter(pl.col("n") == 1)
        by_base = unique_base.select(
            pl.col("town_code").alias(town_col), pl.col("base").alias("_base"),
            pl.col("place_code").alias("_c2"), pl.col("level").alias("_l2"),
        )
        given = pl.col("_short").is_not_null() & (pl.col("_short") != "")
        matched = (
            keyed.join(by_short, on=[town_col, "_short"], how="left")
            .join(by_base, on=[town_col, "_base"], how="left")
            .select(
                town_col, name_col,
                pl.when(given).then(pl.coalesce("_c1", "_c2")).alias(f"{name_col}__code"),
                pl.when(given).then(pl.coalesce("_l1", "_l2")).alias(f"{name_col}__level"),
            )
        )
        return frame.join(matched, on=[town_col, name_col], how="left", nulls_equal=True, maintain_order="left")
