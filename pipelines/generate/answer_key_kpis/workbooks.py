"""Which workbook, and which version of each sheet, is in force for a town and month."""

from __future__ import annotations

import polars as pl

SHEET_KINDS = ("facilities", "village_points", "pairings", "trainings", "funds")
TOWN_WORKBOOK = "town_workbook"


def report_month_range(files: pl.DataFrame) -> tuple | None:
    """(first, last) report month of any loaded workbook, or None when none loaded."""
    months = files.filter((pl.col("kind") == TOWN_WORKBOOK) & (pl.col("status") == "loaded"))["month"]
    if months.is_empty():
        return None
    return months.min(), months.max()


def effective_workbooks(files: pl.DataFrame, town_codes: list[str]) -> pl.DataFrame:
    """town_code, month, file_id: the town's latest loaded workbook for each month it sent one.

    Later submission date wins, then later modification time, then later file name; a
    superseded, duplicate or rejected file is never effective.
    """
    loaded = files.filter(
        (pl.col("kind") == TOWN_WORKBOOK)
        & (pl.col("status") == "loaded")
        & pl.col("town_code").is_in(town_codes)
    )
    return (
        loaded.sort(
            ["submission_date", "modified_at", "file_name", "file_id"],
            descending=True,
            nulls_last=True,
        )
        .group_by("town_code", "month", maintain_order=True)
        .first()
        .select("town_code", "month", "file_id")
    )


def sheets_in_force(
    effective: pl.DataFrame, sheets: pl.DataFrame, town_codes: list[str], months: pl.DataFrame
) -> pl.DataFrame:
    """One row per town, month and sheet kind: the file whose accepted sheet is in force.

    `file_id` is null when no accepted version exists yet; `sent` is true only when the
    version comes from the month's own effective workbook (otherwise the KPIs are stale).
    """
    accepted = (
        effective.rename({"month": "source_month"})
        .join(
            sheets.filter(pl.col("status") == "loaded").select("file_id", "sheet_kind").unique(),
            on="file_id",
        )
    )
    grid = (
        pl.DataFrame({"town_code": town_codes}, schema={"town_code": pl.String})
        .join(months.select("month"), how="cross")
        .join(pl.DataFrame({"sheet_kind": list(SHEET_KINDS)}), how="cross")
    )
    latest = (
        grid.join(accepted, on=["town_code", "sheet_kind"])
        .filter(pl.col("source_month") <= pl.col("month"))
        .sort("source_month")
        .group_by("town_code", "month", "sheet_kind")
        .last()
    )
    return grid.join(latest, on=["town_code", "month", "sheet_kind"], how="left").with_columns(
        sent=(pl.col("source_month") == pl.col("month")).fill_null(False)
    )


def workbook_sent(effective: pl.DataFrame, town_codes: list[str], months: pl.DataFrame) -> pl.DataFrame:
    """town_code, month, sent: whether the town has an effective workbook for the month."""
    grid = pl.DataFrame({"town_code": town_codes}, schema={"town_code": pl.String}).join(
        months.select("month"), how="cross"
    )
    return grid.join(
        effective.select("town_code", "month").with_columns(sent=pl.lit(True)),
        on=["town_code", "month"],
        how="left",
    ).with_columns(pl.col("sent").fill_null(False))


def on_time_submissions(files: pl.DataFrame, town_codes: list[str], months: pl.DataFrame) -> pl.DataFrame:
    """town_code, month, on_time: the earliest accepted workbook for M was submitted by the 5th of M+1."""
    earliest = (
        files.filter(
            (pl.col("kind") == TOWN_WORKBOOK)
            & pl.col("status").is_in(["loaded", "superseded"])
            & pl.col("town_code").is_in(town_codes)
        )
        .group_by("town_code", "month")
        .agg(first_submission=pl.col("submission_date").min())
    )
    grid = pl.DataFrame({"town_code": town_codes}, schema={"town_code": pl.String}).join(
        months.select("month"), how="cross"
    )
    deadline = pl.col("month").dt.offset_by("1mo") + pl.duration(days=4)
    return grid.join(earliest, on=["town_code", "month"], how="left").select(
        "town_code",
        "month",
        on_time=(pl.col("first_submission") <= deadline).fill_null(False),
    )
