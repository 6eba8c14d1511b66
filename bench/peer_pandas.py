"""The peer ruralcare is timed against: the script an analyst would write with pandas + openpyxl.

It reads every town workbook's 互助养老点 and 结对扶老 sheets and every registry export, and
computes K09 (village points built), K10 (village coverage) and K14 (一对一 pairing rate)
per town for the latest month — the way it is done by hand today, with no checks, no
history, no findings. It is a yardstick for speed, not a second implementation: its
figures are close to ruralcare's but not held to the answer key.

    python bench/peer_pandas.py INBOX    # prints the per-town table and the seconds taken
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pandas as pd

SHEETS = {"互助养老点": "points", "结对扶老": "pairing"}
HEADER_WORDS = {"points": ("村名", "村（社区）", "所在村"), "pairing": ("老人姓名", "姓名")}
COLUMNS = {
    "village": ("村名", "村（社区）", "所在村", "村"),
    "mode": ("设置方式", "设立方式", "建设方式"),
    "merge_into": ("合并至", "合并到"),
    "status": ("建设状态", "状态", "是否建成"),
    "id": ("身份证号", "身份证号码", "公民身份号码"),
    "pairing_mode": ("结对方式", "帮扶方式"),
}
BUILT = ("已建成", "已运营", "已投用", "建成", "运营", "投用")
REGISTRY_KINDS = ("农村老年人信息库", "特困人员名册", "低保对象名册")


def read_workbook(path: Path) -> tuple[str, str, dict[str, pd.DataFrame]]:
    engine = "xlrd" if path.suffix == ".xls" else "openpyxl"
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine=engine)
    except Exception:  # noqa: BLE001 - an analyst's script skips what it cannot open
        other = "openpyxl" if engine == "xlrd" else "xlrd"
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine=other)
    town = town_of(path.stem, book)
    month = month_of(path.stem, book)
    sheets = {}
    for name, frame in book.items():
        if "备份" in name or "上月" in name:
            continue
        for word, kind in SHEETS.items():
            if word in name:
                sheets[kind] = with_header(frame, HEADER_WORDS[kind])
    return town, month, sheets


TOWNS = ("统景", "大湾", "茨竹", "大盛", "木耳", "石船", "玉峰山", "兴隆", "古路", "洛碛", "王家")


def town_of(stem: str, book: dict[str, pd.DataFrame]) -> str:
    """The town named in the first sheet's title, else in the file name."""
    first = next(iter(book.values()), pd.DataFrame())
    title = str(first.iloc[0, 0]) if not first.empty else ""
    for text in (title, stem):
        for town in TOWNS:
            if town in text:
                return town
    return "?"


def short_town(name: str) -> str:
    return re.sub(r"(镇|街道)?(人民政府|街道办事处)?$", "", name.strip())


def month_of(stem: str, book: dict[str, pd.DataFrame]) -> str:
    for frame in book.values():
        text = " ".join(str(v) for v in frame.head(3).to_numpy().ravel() if isinstance(v, str))
        found = re.search(r"(20\d\d)年(\d{1,2})月", text)
        if found:
            return f"{found[1]}-{int(found[2]):02d}"
    found = re.search(r"(20\d\d)\D?(\d{1,2})", stem)
    return f"{found[1]}-{int(found[2]):02d}" if found else "?"


def with_header(frame: pd.DataFrame, words: tuple[str, ...]) -> pd.DataFrame:
    for i in range(min(len(frame), 10)):
        row = [re.sub(r"\s", "", str(v)) for v in frame.iloc[i].tolist()]
        if any(w in row for w in words):
            body = frame.iloc[i + 1:].copy()
            body.columns = row
            return body.dropna(how="all")
    return pd.DataFrame()


def column(frame: pd.DataFrame, key: str) -> pd.Series:
    for name in COLUMNS[key]:
        if name in frame.columns:
            found = frame[name]
            found = found.iloc[:, 0] if isinstance(found, pd.DataFrame) else found
            return found.fillna("").astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index)


def short_village(name) -> str:
    return re.sub(r"(村民委员会|村委会|村委|居民委员会)$", "", str(name).strip())


def clean_id(value) -> str:
    text = str(value).replace(" ", "").replace('="', "").replace('"', "").lstrip("'").upper()
    return text


def read_registry(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030", "utf-16"):
            try:
                return pd.read_csv(path, dtype=str, encoding=encoding)
            except (UnicodeError, pd.errors.ParserError):
                continue
        return pd.DataFrame()
    return pd.read_excel(path, dtype=str, engine="xlrd" if path.suffix == ".xls" else "openpyxl")


REGISTRY_COLUMNS = {
    "id": ("公民身份号码", "身份证号码", "身份证号"),
    "town": ("镇街", "乡镇（街道）", "所属镇街", "镇（街道）"),
    "support": ("供养方式", "供养形式"),
    "status": ("人员状态", "状态"),
    "ability": ("能力等级", "失能等级"),
    "special_family": ("计生特殊家庭",),
}


def pick(frame: pd.DataFrame, key: str) -> pd.Series:
    for name in REGISTRY_COLUMNS[key]:
        if name in frame.columns:
            return frame[name].fillna("").astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index)


def key_group(inbox: Path) -> pd.DataFrame:
    """Persons of the latest dated export of each registry who are 分散供养 特困 (active), 低保
    (active) or 计生特殊家庭 and 失能 (the analyst's reading of the key group)."""
    latest = {}
    for path in sorted((inbox / "registries").iterdir()):
        for kind in REGISTRY_KINDS:
            if path.name.startswith(kind + "_"):
                latest[kind] = read_registry(path)  # sorted by the date in the name: the last wins
    members = []
    elderly = latest.get("农村老年人信息库", pd.DataFrame())
    if not elderly.empty:
        disabled = pd.to_numeric(pick(elderly, "ability"), errors="coerce").fillna(0) >= 1
        members.append(elderly[disabled & pick(elderly, "special_family").eq("是")])
    tekun = latest.get("特困人员名册", pd.DataFrame())
    if not tekun.empty:
        members.append(tekun[pick(tekun, "support").eq("分散供养") & pick(tekun, "status").eq("正常")])
    dibao = latest.get("低保对象名册", pd.DataFrame())
    if not dibao.empty:
        members.append(dibao[~pick(dibao, "status").isin(("终止", "注销"))])
    people = pd.concat([pd.DataFrame({"id": pick(m, "id").map(clean_id),
                                      "town": pick(m, "town").map(short_town)})
                        for m in members], ignore_index=True)
    return people.drop_duplicates("id")


def compute(inbox: Path) -> pd.DataFrame:
    latest: dict[str, tuple[str, dict[str, pd.DataFrame]]] = {}
    for path in sorted((inbox / "towns").iterdir()):
        if path.suffix not in (".xlsx", ".xls", ".xlsm") or path.name.startswith("~$"):
            continue
        try:
            town, month, sheets = read_workbook(path)
        except Exception:  # noqa: BLE001
            continue
        if town not in latest or month >= latest[town][0]:
            latest[town] = (month, sheets)
    people = key_group(inbox)
    rows = []
    for town, (month, sheets) in sorted(latest.items()):
        points = sheets.get("points", pd.DataFrame())
        village = column(points, "village").map(short_village)
        mode = column(points, "mode")
        built = column(points, "status").map(lambda s: any(w in s for w in BUILT))
        own = mode.str.contains("单独|独立|依托")
        built_villages = set(village[own & built])
        merged = mode.str.contains("合并") & column(points, "merge_into").map(short_village).isin(built_villages)
        not_set = mode.str.contains("不设立")
        villages = village.nunique()
        pairing = sheets.get("pairing", pd.DataFrame())
        paired = set(column(pairing, "id").map(clean_id)[column(pairing, "pairing_mode").eq("一对一")])
        town_people = people[people["town"] == town]
        rows.append({
            "town": town, "month": month,
            "K09": int((own & built).sum()),
            "K10": round(float((own & built | merged | not_set).sum()) / villages, 4) if villages else None,
            "K14": round(town_people["id"].isin(paired).mean(), 4) if len(town_people) else None,
        })
    return pd.DataFrame(rows)


def main(inbox: str) -> None:
    started = time.perf_counter()
    table = compute(Path(inbox))
    print(table.to_string(index=False))
    print(f"peer seconds: {time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
