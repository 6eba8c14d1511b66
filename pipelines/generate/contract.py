"""The sheet/registry vocabulary of sources/contract/sheets.yaml, as the generator needs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True, eq=False)
class Column:
    field: str
    header: str
    aliases: tuple[str, ...]
    type: str
    required: bool
    values: dict[str, tuple[str, ...]]  # canonical -> aliases (categories)


@dataclass(frozen=True)
class SheetContract:
    kind: str
    name: str
    aliases: tuple[str, ...]
    group_labels: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, field: str) -> Column:
        return next(c for c in self.columns if c.field == field)


def _column(raw: dict) -> Column:
    values = {str(k): tuple(v or ()) for k, v in (raw.get("values") or {}).items()}
    return Column(raw["field"], raw["header"], tuple(raw.get("aliases") or ()), raw["type"],
                  bool(raw.get("required", False)), values)


def load_contract(path: Path) -> tuple[dict[str, SheetContract], dict[str, SheetContract]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def sheet(kind: str, raw: dict) -> SheetContract:
        return SheetContract(kind, raw["name"], tuple(raw.get("aliases") or ()),
                             tuple(raw.get("group_labels") or ()), tuple(_column(c) for c in raw["columns"]))

    sheets = {kind: sheet(kind, raw) for kind, raw in data["sheets"].items()}
    registries = {kind: sheet(kind, raw) for kind, raw in data["registries"].items()}
    return sheets, registries
