"""The report's Chinese font, subset to the characters a report uses and embedded in it.

Chromium's PDF writer embeds TrueType outlines as real fonts but turns CFF outlines (the
Noto CJK fonts Debian ships) into nameless Type 3 glyph procedures. So the report carries
its own font: Noto Sans CJK SC from `fonts-noto-cjk`, cut down to the characters of the
document and converted to TrueType outlines, as a data: URL in the HTML. The HTML then
renders the same anywhere, and the PDF embeds a named CJK TrueType font.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/opentype/noto-cjk"),
             Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FAMILY = "Noto Sans CJK SC"
WEIGHT_FILES = {400: "NotoSansCJK-Regular.ttc", 700: "NotoSansCJK-Bold.ttc"}
# Characters always kept: what numbers, dates and punctuation may need beyond the text seen.
ALWAYS = "0123456789.,%+-−—–/:()（）、，。；：“”《》·×≥≤—→↑↓ "
# Quadratic curves approximate the cubic ones within this many font units (of 1000).
MAX_CURVE_ERROR = 1.0


@dataclass(frozen=True)
class EmbeddedFont:
    family: str
    weight: int
    data_url: str

    def css(self) -> str:
        return (f"@font-face{{font-family:'{self.family}';font-weight:{self.weight};"
                f"src:url({self.data_url}) format('truetype');}}")


def find_font_file(name: str) -> Path:
    for folder in FONT_DIRS:
        candidate = folder / name
        if candidate.exists():
            return candidate
    raise RuntimeError(
        f"The Chinese font {name} is missing: install the Debian package `fonts-noto-cjk` "
        "(scripts/apt-packages.txt)."
    )


@lru_cache(maxsize=4)
def _face_number(path: Path) -> int:
    """Index of the Simplified-Chinese face in a Noto CJK collection."""
    collection = TTCollection(str(path), lazy=True)
    for number, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == FAMILY:
            return number
    raise RuntimeError(f"{path} has no face named {FAMILY}")


def subset_truetype(path: Path, text: str) -> bytes:
    """The SC face cut down to the characters of `text` (plus ALWAYS), with TrueType outlines."""
    return _subset(path, "".join(sorted(set(text + ALWAYS))))


@lru_cache(maxsize=8)
def _subset(path: Path, characters: str) -> bytes:
    """Months share almost all their characters: a set is cut once and kept on disk (cutting
    and converting the outlines takes seconds; reading the cut font back, milliseconds)."""
    import fontTools

    stat = path.stat()
    key = hashlib.sha256(repr((str(path), stat.st_size, stat.st_mtime_ns, characters, MAX_CURVE_ERROR,
                               fontTools.version)).encode("utf-8")).hexdigest()[:32]
    cached = _cache_dir() / f"{key}.ttf"
    if cached.exists():
        return cached.read_bytes()
    data = _cut(path, characters)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, cached)  # atomic: a concurrent report never reads half a font
    return data


def _cache_dir() -> Path:
    """RURALCARE_CACHE_DIR, else the user's cache folder (the fonts hold glyphs, no data)."""
    base = os.environ.get("RURALCARE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / ("fonts" if os.environ.get("RURALCARE_CACHE_DIR") else "ruralcare/fonts")


def _cut(path: Path, characters: str) -> bytes:
    """Layout tables are dropped: Chinese text needs no shaping, and keeping them pulls in
    thousands of alternate glyphs (slow to convert, heavy to embed)."""
    font = TTFont(str(path), fontNumber=_face_number(path), lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    if "CFF " in font:
        _cff_to_glyf(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _cff_to_glyf(font: TTFont) -> None:
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del font["CFF "]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                  "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                  "maxComponentElements"):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"


def embedded_fonts(text: str) -> list[EmbeddedFont]:
    """Regular and bold faces for `text`, as data: URLs."""
    fonts = []
    for weight, file_name in WEIGHT_FILES.items():
        ttf = subset_truetype(find_font_file(file_name), text)
        url = "data:font/ttf;base64," + base64.b64encode(ttf).decode("ascii")
        fonts.append(EmbeddedFont(FAMILY, weight, url))
    return fonts
