"""City-scale older people, generated town by town with numpy (no Python object per person).

`town_people` is a pure function of (seed, town, size, months): the registry writer and the
workbook renderer call it separately and get the same people. IDs are unique by
construction: each town has its own 6-digit region code and people of the town sharing a
birth date and sex get consecutive sequence numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .divisions import Town
from .ids import CHECK_CHARS, COMPOUND_SURNAMES, GIVEN_CHARS_OLD, PHONE_PREFIXES, SURNAMES, WEIGHTS
from .model import LIVING, NEVER, month_end

AGE_BANDS = ((60, 64, 24), (65, 69, 24), (70, 74, 22), (75, 79, 16), (80, 84, 8), (85, 89, 4), (90, 95, 2))
SELF_CARE = ("具备", "部分丧失", "完全丧失")
DOCTOR_EPOCH = dt.date(2019, 1, 1)


def town_sizes(seed: int, towns: list[Town], total: int) -> dict[str, int]:
    """People per town: `total` split in proportion to villages (1) and communities (0.5)."""
    weights = np.array([len(t.villages) + 0.5 * len(t.communities) for t in towns], dtype=float)
    counts = np.random.default_rng([seed, 7]).multinomial(total, weights / weights.sum())
    return {t.code: int(n) for t, n in zip(towns, counts)}


def region_code(town: Town) -> str:
    """The birth-registration region of a town's people: one code per town keeps IDs unique."""
    return f"50{town.index:04d}"


def id_numbers(region: str, birth_ymd: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """18-character IDs (GB 11643 check character) for birth dates as yyyymmdd ints and 0..999 sequences."""
    if sequence.size and sequence.max() > 999:
        raise ValueError("more than 500 people of one sex share a birth date in one town")
    digits = np.empty((birth_ymd.size, 17), dtype=np.int64)
    for i, ch in enumerate(region):
        digits[:, i] = int(ch)
    for i in range(8):
        digits[:, 6 + i] = birth_ymd // 10 ** (7 - i) % 10
    for i in range(3):
        digits[:, 14 + i] = sequence // 10 ** (2 - i) % 10
    check = np.array(list(CHECK_CHARS))[(digits @ np.array(WEIGHTS)) % 11]
    first17 = np.char.add(np.char.add(region, birth_ymd.astype("U8")), np.char.zfill(sequence.astype("U3"), 3))
    return np.char.add(first17, check)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(list(SURNAMES))[rng.integers(0, len(SURNAMES), n)]
    compound = rng.random(n) < 0.01
    surnames[compound] = np.array(COMPOUND_SURNAMES)[rng.integers(0, len(COMPOUND_SURNAMES), compound.sum())]
    chars = np.array(list(GIVEN_CHARS_OLD))
    first = chars[rng.integers(0, len(chars), n)]
    second = np.where(rng.random(n) < 0.75, chars[rng.integers(0, len(chars), n)], "")
    return np.char.add(np.char.add(surnames, first), second)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    return np.char.add(prefix, np.char.zfill(rng.integers(0, 10**8, n).astype("U8"), 8))


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01."""
    d = days.astype("datetime64[D]")
    years = d.astype("datetime64[Y]")
    months = d.astype("datetime64[M]")
    return (years.astype(int) + 1970, (months - years).astype(int) + 1, (d - months).astype(int) + 1)


def _days(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def town_people(seed: int, town: Town, size: int, months: list[int]) -> pl.DataFrame:
    """The town's older people with their registry memberships; one row per person."""
    rng = np.random.default_rng([seed, int(town.code)])
    first, last = months[0], months[-1]
    end_day = month_end(last)
    units = town.villages + town.communities
    weights = np.array([1.0] * len(town.villages) + [0.5] * len(town.communities))
    unit = rng.choice(len(units), size, p=weights / weights.sum())
    band = rng.choice(len(AGE_BANDS), size, p=np.array([b[2] for b in AGE_BANDS]) / 100)
    low = np.array([b[0] for b in AGE_BANDS])[band]
    high = np.array([b[1] for b in AGE_BANDS])[band]
    age = rng.integers(low, high + 1)
    year_start = (end_day.year - age - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    birth = year_start + rng.integers(0, 365, size)
    year, month, day = _ymd(birth)
    under_60 = (year * 10000 + month * 100 + day) > (end_day.year - 60) * 10000 + end_day.month * 100 + end_day.day
    birth = np.where(under_60, birth - 365, birth)
    year, month, day = _ymd(birth)
    birth_ymd = year * 10000 + month * 100 + day
    female = rng.random(size) < 0.53
    # consecutive sequence numbers among the town's people of one birth date and sex
    order = np.lexsort((female, birth_ymd))
    group_start = np.r_[True, (np.diff(birth_ymd[order]) != 0) | (np.diff(female[order].astype(int)) != 0)]
    starts = np.maximum.accumulate(np.where(group_start, np.arange(size), 0))
    rank = np.empty(size, dtype=np.int64)
    rank[order] = np.arange(size) - starts
    sequence = rank * 2 + np.where(female, 0, 1)
    ids = id_numbers(region_code(town), birth_ymd, sequence)
    phone = np.where(rng.random(size) < 0.8, _phones(rng, size), "")
    death = np.where(rng.random(size) < 0.04, rng.integers(first, last + 61, size), NEVER)
    span = max(1, last - first)
    device = np.where(rng.random(size) < 0.85, first + (rng.random(size) * span * 1.1).astype(int), NEVER)
    doctor_days = _days(end_day) - _days(DOCTOR_EPOCH)
    signed = np.where(rng.random(size) < 0.68, _days(DOCTOR_EPOCH) + rng.integers(0, doctor_days, size), -1)
    signed_year, signed_month, _ = _ymd(np.maximum(signed, 0))
    doctor_end = np.where((rng.random(size) < 0.1) & (signed >= 0),
                          signed_year * 12 + signed_month - 1 + rng.integers(6, 31, size), NEVER)
    doctor_status = np.where(rng.random(size) < 0.5, "解约", "到期")
    # 特困 about 3% (a fifth of them 集中供养 in the town's home), 低保 / 低保边缘 about 6% of the rest
    tekun = rng.random(size) < 0.03
    ends = (death != NEVER) & (death <= last) | (rng.random(size) < 0.03)
    tekun_end = np.where(tekun & ends & (last > first),
                         np.minimum(death, rng.integers(first + 1, max(first + 2, last + 1), size)), NEVER)
    dibao = ~tekun & (rng.random(size) < 0.06)
    dibao_start = np.where(rng.random(size) < 0.85, first - 24, rng.integers(first, last + 1, size))
    dibao_end = np.where(rng.random(size) < 0.1, np.maximum(dibao_start, first) + rng.integers(1, 4, size), NEVER)
    dibao_end = np.minimum(dibao_end, death)
    unit_codes = np.array([u.code for u in units])
    return pl.DataFrame({
        "id_number": ids,
        "person_name": _names(rng, size),
        "gender": np.where(female, "女", "男"),
        "birth_ymd": birth_ymd,
        "birth_date": birth.astype("datetime64[D]"),
        "town_code": np.full(size, town.code),
        "village_code": unit_codes[unit],
        "unit": unit,
        "living": np.array(LIVING)[rng.choice(4, size, p=np.array([6, 36, 50, 8]) / 100)],
        "left_behind": rng.random(size) < 0.06,
        "ability": rng.choice(5, size, p=np.array([82, 9, 4, 3, 2]) / 100),
        "family_planning": rng.random(size) < 0.012,
        "phone": phone,
        "death_am": death,
        "device_am": device,
        "doctor_signed": signed,
        "doctor_end_am": doctor_end,
        "doctor_status": doctor_status,
        "tekun": tekun,
        "tekun_self_care": np.array(SELF_CARE)[rng.choice(3, size, p=[0.6, 0.25, 0.15])],
        "tekun_allowance": np.where(rng.random(size) < 0.5, 12480.0, 13260.0),
        "tekun_home": tekun & (rng.random(size) < 0.2),
        "tekun_end_am": tekun_end,
        "dibao": dibao,
        "dibao_category": np.where(rng.random(size) < 0.7, "低保", "低保边缘"),
        "dibao_start_am": dibao_start,
        "dibao_end_am": dibao_end,
        "dibao_end_status": np.where((dibao_end == death) & (death != NEVER), "注销", "终止"),
    }).with_columns(
        pl.when(pl.col("phone") != "").then(pl.col("phone")).alias("phone"),
        pl.when(pl.col("doctor_signed") >= 0).then(pl.col("doctor_signed")).cast(pl.Int32).cast(pl.Date),
    )


def age_at_least(birth_ymd: pl.Expr, day: dt.date, years: int) -> pl.Expr:
    """Aged `years` or more on `day` (birthday passed counts)."""
    return birth_ymd <= (day.year - years) * 10000 + day.month * 100 + day.day


def age_at_month_end(birth_ymd: pl.Expr, am: int) -> pl.Expr:
    """Whole years at the month's last day (as the model's `age_at_end`, 29 February aside)."""
    passed = (birth_ymd // 100 % 100) <= am % 12 + 1
    return am // 12 - birth_ymd // 10000 - (~passed).cast(pl.Int64)
