"""A synthetic city-scale division list: districts of towns, each with villages and communities.

Same columns as the real list (code,name,level,parent_code,urban_rural_code,is_rural_scope);
every unit is in rural scope. Town codes are 9 digits (synthetic district 5099xx + 3), village
and community codes 12 (town + 3). Names are two-character bases drawn from place-name
characters that never occur in the fixed words of file names and covers, so that a town's
base cannot be found by accident inside another town's file name.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

COLUMNS = ("code", "name", "level", "parent_code", "urban_rural_code", "is_rural_scope")
TOWNS_PER_DISTRICT = 100
FIRST_DISTRICT = 509901

# characters of the words generated file names, covers and titles are made of
_FIXED_WORDS = ("农村养老服务全覆盖进度表工作月报最终版汇总说明材料加密损坏终版副本快捷方式填报单位日期截至"
                "人民政府办事处街道镇乡村社区居民委员会敬老院中心互助点分组卫生所属年月份更正备份")
_PLACE_CHARS = ("青石龙凤云松柏桥河湾坝坪岭岗溪塘沟垭坡山峰林竹梅兰桂花茶桃李杨柳槐枫双三五六七八九"
                "东南西北上下前后高新古金银铜铁玉宝福兴隆安宁和平太永长清明阳光华荣昌盛丰富"
                "黄白红绿紫朱丹碧翠合龟鹤鹿马牛羊鸡鱼雁鹰狮象虎豹泉潭湖池滩渡口关寨堡营门台")
PLACE_CHARS = "".join(dict.fromkeys(c for c in _PLACE_CHARS if c not in _FIXED_WORDS))


def _bases(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """`count` distinct two-character bases not in `taken` (which they are added to)."""
    out: list[str] = []
    while len(out) < count:
        base = rng.choice(PLACE_CHARS) + rng.choice(PLACE_CHARS)
        if base[0] != base[1] and base not in taken:
            taken.add(base)
            out.append(base)
    return out


def city_division_rows(seed: int, n_towns: int, villages_per_town: int = 10) -> list[dict[str, str]]:
    """The division list as rows (towns first within each district, then their units), codes ascending."""
    if n_towns < 1 or n_towns > TOWNS_PER_DISTRICT * 99:
        raise ValueError(f"n_towns must be 1..{TOWNS_PER_DISTRICT * 99}, not {n_towns}")
    rng = random.Random(f"{seed}:city-divisions")
    town_bases = _bases(rng, n_towns, set())
    rows: list[dict[str, str]] = []
    for serial, base in enumerate(town_bases):
        district = str(FIRST_DISTRICT + serial // TOWNS_PER_DISTRICT)
        town_code = f"{district}{serial % TOWNS_PER_DISTRICT + 1:03d}"
        suffix = rng.choices(("镇", "街道", "乡"), weights=(85, 10, 5))[0]
        rows.append(_row(town_code, base + suffix, "town", district))
        n_villages = max(1, villages_per_town + rng.randint(-2, 2))
        n_communities = rng.randint(1, 3)
        unit_bases = _bases(rng, n_villages + n_communities, {base})
        for k, unit in enumerate(unit_bases):
            level = "village" if k < n_villages else "community"
            name = f"{unit}村村民委员会" if level == "village" else f"{unit}社区居民委员会"
            rows.append(_row(f"{town_code}{k + 1:03d}", name, level, town_code))
    return rows


def _row(code: str, name: str, level: str, parent: str) -> dict[str, str]:
    return {"code": code, "name": name, "level": level, "parent_code": parent, "urban_rural_code": "",
            "is_rural_scope": "true"}


def write_divisions(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
