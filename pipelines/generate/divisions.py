"""The division list (towns, villages, communities) the generator renders for."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = ("村民委员会", "居民委员会")


@dataclass(eq=False)
class Village:
    code: str
    name: str  # official: 前锋村村民委员会
    level: str  # village | community
    town_code: str
    short: str = field(init=False)  # 前锋村 / 温泉社区: the name clerks type
    base: str = field(init=False)  # 前锋: the short name without 村

    def __post_init__(self) -> None:
        self.short = next((self.name[: -len(s)] for s in SUFFIXES if self.name.endswith(s)), self.name)
        self.base = self.short[:-1] if self.short.endswith("村") else self.short


@dataclass(eq=False)
class Town:
    code: str
    name: str  # 统景镇 / 王家街道
    index: int
    villages: list[Village] = field(default_factory=list)
    communities: list[Village] = field(default_factory=list)

    @property
    def short(self) -> str:
        for suffix in ("街道", "镇", "乡"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name

    @property
    def is_subdistrict(self) -> bool:
        return self.name.endswith("街道")

    @property
    def government_name(self) -> str:
        return self.name + ("办事处" if self.is_subdistrict else "人民政府")


def load_towns(divisions_file: Path) -> list[Town]:
    """The rural-scope towns with their in-scope villages and communities, in code order."""
    with divisions_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    in_scope = [r for r in rows if r["is_rural_scope"].strip().lower() == "true"]
    towns = {
        r["code"]: Town(r["code"], r["name"], 0)
        for r in sorted(in_scope, key=lambda r: r["code"])
        if r["level"] == "town"
    }
    for index, town in enumerate(towns.values()):
        town.index = index
    for r in sorted(in_scope, key=lambda r: r["code"]):
        town = towns.get(r["parent_code"])
        if town is None:
            continue
        village = Village(r["code"], r["name"], r["level"], town.code)
        (town.villages if r["level"] == "village" else town.communities).append(village)
    return list(towns.values())
