"""Resident ID numbers (GB 11643-1999), column-wise in Polars.

Normalise (spaces, full-width, lowercase x, `'` and `="…"` wrappers), convert 15-digit
legacy numbers, and validate form, birth date and check character. Scientific notation
has lost digits for good: invalid, never repaired.
"""

from __future__ import annotations

import polars as pl

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def check_char_expr(first17: pl.Expr) -> pl.Expr:
    """`check_char` column-wise: the check character of each row's first 17 digits."""
    total = pl.sum_horizontal(
        first17.str.slice(i, 1).cast(pl.Int32, strict=False) * weight for i, weight in enumerate(WEIGHTS)
    )
    return (total % 11).replace_strict({i: c for i, c in enumerate(CHECK_CHARS)}, return_dtype=pl.String)


def clean_id(raw: pl.Expr) -> pl.Expr:
    """The ID text with clerks' wrappers and spacing removed (not yet validated)."""
    text = raw.str.normalize("NFKC").str.replace_all(r"\s+", "")
    text = text.str.replace(r'^="?(.*?)"?$', "$1")  # ="500112…" (Excel text formula)
    text = text.str.replace(r"^['‘’`]+", "")  # leading apostrophe
    return text.str.to_uppercase()


def cleaned_ids(raw: pl.Series) -> pl.Series:
    """`clean_id` of each value. The common forms, a plain 18-character number and one wrapped as
    `="…"` (a whole export often is), are unwrapped by one regex; the full cleaning, most of the ID
    work on millions of rows, runs on the rest only."""
    # [0-9], not \d: \d also matches full-width digits, which need cleaning
    unwrapped = raw.str.replace(r'^="?([0-9]{17}[0-9X])"?$', "$1")
    needs_cleaning = ~unwrapped.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(True)
    if not needs_cleaning.any():
        return unwrapped
    positions = needs_cleaning.arg_true()
    cleaned = raw.gather(positions).to_frame("id").select(clean_id(pl.col("id"))).to_series()
    return unwrapped.scatter(positions, cleaned)


def with_id_columns(frame: pl.DataFrame, raw: str, as_of: str) -> pl.DataFrame:
    """Add id_number (null when invalid), id_valid, id_legacy15 and _id_destroyed for column `raw`.

    `as_of` names the date column a birth date may not be after (month end or export date).
    An empty cell gives id_valid = null (no number given). Computed in steps so each
    intermediate column is evaluated once (this runs on millions of rows).
    """
    frame = frame.with_columns(_id_text=cleaned_ids(frame[raw]))
    text = pl.col("_id_text")
    frame = frame.with_columns(
        _id_legacy=text.str.contains(r"^\d{15}$"),
        _id_destroyed=text.str.contains(r"^\d+(\.\d+)?E\+?\d+$").fill_null(False),
        _id_form=text.str.contains(r"^\d{17}[\dX]$"),
    )
    legacy = pl.col("_id_legacy")
    frame = frame.with_columns(
        _id_first17=pl.when(legacy)
        .then(text.str.slice(0, 6) + pl.lit("19") + text.str.slice(6, 9))
        .otherwise(text.str.slice(0, 17))
    )
    first17 = pl.col("_id_first17")
    birth = first17.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    frame = frame.with_columns(
        _id_birth_ok=birth.is_not_null() & (birth >= pl.date(1900, 1, 1)) & (birth <= pl.col(as_of)),
        _id_check=check_char_expr(first17),
    )
    check = pl.col("_id_check")
    valid = (legacy | pl.col("_id_form")) & pl.col("_id_birth_ok") & (legacy | (text.str.slice(17, 1) == check))
    empty = text.is_null() | (text == "")
    frame = frame.with_columns(_id_ok=valid.fill_null(False))
    ok = pl.col("_id_ok")
    return frame.with_columns(
        id_number=pl.when(ok).then(pl.when(legacy).then(first17 + check).otherwise(text)).otherwise(None),
        id_valid=pl.when(empty).then(None).otherwise(ok),
        id_legacy15=pl.when(ok).then(legacy).otherwise(False),
    ).drop("_id_text", "_id_legacy", "_id_form", "_id_first17", "_id_birth_ok", "_id_check", "_id_ok")
