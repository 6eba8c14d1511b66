"""The report's cut-down Chinese font is cut once and then read back from the cache."""

from pathlib import Path

import pytest

from pipelines.report import fonts


def test_a_glyph_set_is_cut_once_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RURALCARE_CACHE_DIR", str(tmp_path))
    fonts._subset.cache_clear()
    cuts: list[str] = []
    real_cut = fonts._cut

    def counting_cut(path: Path, characters: str) -> bytes:
        cuts.append(characters)
        return real_cut(path, characters)

    monkeypatch.setattr(fonts, "_cut", counting_cut)
    regular = fonts.find_font_file(fonts.WEIGHT_FILES[400])
    first = fonts.subset_truetype(regular, "统景镇村级互助养老服务覆盖率")
    fonts._subset.cache_clear()  # a new process: only the disk cache remains
    second = fonts.subset_truetype(regular, "统景镇村级互助养老服务覆盖率")
    other = fonts.subset_truetype(regular, "大湾镇")
    assert first == second and first[:4] == b"\x00\x01\x00\x00"  # TrueType outlines
    assert len(cuts) == 2 and other != first
    assert len(list((tmp_path / "fonts").glob("*.ttf"))) == 2
    fonts._subset.cache_clear()
