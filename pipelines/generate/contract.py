"""The sheet/registry vocabulary of sources/contract/sheets.yaml, as the generator needs it.

Read by the loader's own reader (`pipelines.contract`), so both sides take the same headers,
aliases and category values from the file.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.contract import Column, SourceSpec
from pipelines.contract import load_contract as load_source_contract

SheetContract = SourceSpec

__all__ = ["Column", "SheetContract", "load_contract"]


def load_contract(path: Path) -> tuple[dict[str, SheetContract], dict[str, SheetContract]]:
    """(sheet kinds, registries) of the contract at `path`."""
    contract = load_source_contract(path)
    return contract.sheets, contract.registries
