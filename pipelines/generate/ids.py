"""Resident ID numbers (GB 11643-1999), Chinese names and phone numbers for synthetic people."""

from __future__ import annotations

import datetime as dt
import random

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def make_id(region: str, birth: dt.date, sequence: int) -> str:
    """An 18-character ID; `sequence` 0..999 (its last digit's parity is the sex)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def is_valid_id(id18: str) -> bool:
    if len(id18) != 18 or not id18[:17].isdigit():
        return False
    try:
        dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return False
    return check_char(id18[:17]) == id18[17]


def legacy15(id18: str) -> str:
    """The 15-digit pre-1999 form of an ID of someone born in the 1900s."""
    return id18[:6] + id18[8:17]


def mask_id(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
GIVEN_CHARS_OLD = "秀英兰芳玉珍桂华淑贞凤琼明德福贵成荣富国清华文明光志云永春发远林昌泽全伦忠仁义礼有金银"
GIVEN_CHARS_YOUNG = "伟静丽强磊洋艳勇军杰娟涛超明霞平刚桂英华玲敏芳燕丹辉鹏浩宇欣婷雪梅琳"


def make_name(rng: random.Random, old: bool = True) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    chars = GIVEN_CHARS_OLD if old else GIVEN_CHARS_YOUNG
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
    return surname + given


PHONE_PREFIXES = ("133", "135", "136", "138", "139", "150", "152", "158", "177", "180", "187", "189", "199")


def make_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
