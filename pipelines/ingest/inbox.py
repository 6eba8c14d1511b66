"""The inbox: which files to look at, their fingerprints, and why a file cannot be read.

Lock files, hidden dot-files and symbolic links are never opened. File names that are not
valid UTF-8 are decoded as GB18030.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines.ingest.findings import masked_in_text
from pipelines.whole_files import write_whole

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
INBOX_FOLDERS = {"towns": "town_workbook", "registries": "registry"}
# Folders beside those that hold no input: the files a refresh set aside, and the answer key
# `ruralcare generate` writes beside a sample inbox.
NOT_INPUT_FOLDERS = {"rejected", "answer_key"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ARCHIVE_MAGICS = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")  # RAR, 7-Zip, gzip

# reason code -> (Chinese, English): what happened and what to do.
REASONS = {
    "zero_bytes": ("文件为空（0 字节），请重新导出并报送", "the file is empty (0 bytes); export it again and resend it"),
    "not_workbook": ("不是可读取的 Excel 工作簿（内容与扩展名不符），请用 Excel 另存为 .xlsx 后报送",
                     "not a readable Excel workbook (content does not match the extension); save it as .xlsx in Excel and resend it"),
    "archive": ("这是压缩文件，请解压后将其中的工作簿放入收件箱的 towns 文件夹（名册放入 registries 文件夹）",
                "a compressed archive; unpack it and put the workbooks it holds into the inbox's towns/ "
                "(registry exports into registries/)"),
    "encrypted": ("工作簿设置了打开密码，无法读取，请取消密码后重新报送",
                  "the workbook is password-protected; remove the password and resend it"),
    "corrupt": ("文件已损坏，无法打开，请重新保存后报送", "the file is damaged and cannot be opened; save it again and resend it"),
    "town_unresolved": ("无法识别填报镇街，请在封面填写「填报单位：××镇」或按模板命名文件",
                        "the town cannot be determined; fill in 填报单位 on the cover or name the file as the template does"),
    "month_unresolved": ("无法识别报表月份，请在封面填写「报表月份：2022年6月」或按模板命名文件",
                         "the report month cannot be determined; fill in 报表月份 on the cover or name the file as the template does"),
    "cover_conflict": ("封面填写的镇街或月份与文件名不一致，请核对后重新报送",
                       "the town or month on the cover disagrees with the file name; correct one of them and resend"),
    "no_known_sheet": ("没有可识别的工作表（机构设施、互助养老点、结对扶老、培训情况、资金情况），请使用模板",
                       "no recognised sheet (机构设施, 互助养老点, 结对扶老, 培训情况, 资金情况); use the template"),
    "bad_registry_name": ("名册文件名无法识别（应为「名册名称_YYYYMMDD.csv」），请按规范命名后重新导出",
                          "the registry file name is not recognised (expected <名册>_<YYYYMMDD>.csv); rename it and resend"),
    "registry_header": ("名册缺少必需的列或没有表头，请按规范重新导出", "the registry lacks a required column or its header; export it again"),
    "duplicate": ("与已收到的文件内容完全相同，未重复导入", "identical to a file already received; not loaded again"),
    "superseded": ("同一镇街同月份有更新的报送，本文件已被替代", "a later submission for the same town and month replaces this file"),
}


@dataclass(frozen=True)
class InboxFile:
    path: Path
    relative_path: str  # decoded, posix, under the inbox
    file_name: str
    kind: str  # town_workbook | registry | unknown
    sha256: str
    file_id: str
    size: int
    modified_at: datetime  # UTC, naive

    @property
    def shown_name(self) -> str:
        """The name every table, finding, workbook and log line shows: a full ID or phone number
        a clerk put into it masked (else it would stop the publish's privacy check)."""
        return masked_in_text(self.file_name)

    @property
    def shown_path(self) -> str:
        return masked_in_text(self.relative_path)

    @property
    def modified_date_shanghai(self) -> date:
        return self.modified_at.replace(tzinfo=timezone.utc).astimezone(SHANGHAI).date()


def decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def is_skipped(name: str) -> bool:
    """Office lock files (`~$…`, `.~lock…#`) and hidden dot-files."""
    return name.startswith("~$") or name.startswith(".")


def file_id_for(relative_path: str, sha256: str) -> str:
    return hashlib.sha256(relative_path.encode("utf-8") + b"\0" + sha256.encode("ascii")).hexdigest()[:16]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(sources_dir: Path, remembered: Path | None = None) -> list[InboxFile]:
    """Every file to consider under towns/ and registries/, in a stable order. With `remembered`
    (a file of the warehouse), a file's SHA-256 is read again only when the file changed
    (`RememberedHashes`)."""
    found = []
    hashes = RememberedHashes(remembered)
    root = os.fsencode(sources_dir)
    for folder, kind in INBOX_FOLDERS.items():
        base = os.path.join(root, folder.encode())
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(b"."))
            for raw_name in sorted(filenames):
                full = os.path.join(dirpath, raw_name)
                name = decode_name(raw_name)
                if is_skipped(name) or os.path.islink(full) or not os.path.isfile(full):
                    continue
                relative = "/".join(decode_name(p) for p in os.path.relpath(full, root).split(os.sep.encode()))
                stat = os.stat(full)
                sha = hashes.sha256(full, stat)
                found.append(InboxFile(
                    path=Path(os.fsdecode(full)), relative_path=relative, file_name=name, kind=kind,
                    sha256=sha, file_id=file_id_for(relative, sha), size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc).replace(tzinfo=None),
                ))
    hashes.save()
    return found


class RememberedHashes:
    """The inbox files' SHA-256 kept between refreshes in a file of the warehouse, each with the
    file's size, modification time and status-change time (ns): a file whose three are the same
    is not read again. The status-change time is set by the system on every write, rename or copy
    and cannot be set back (unlike the modification time, which a copy may keep), so a file with
    other bytes is always read (docs/decisions.md: ≈ 1 s a GB, twice a refresh). Files are named by
    a hash of their full path (a file name may hold an ID number); files gone from the inbox are
    forgotten. An unreadable or missing record only means every file is read. A file changed in
    the last seconds is not remembered: the system's clock for these times is coarse (milliseconds),
    so a change right after hashing could leave all three as they were."""

    VERSION = 1
    RECENT_NS = 2_000_000_000

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._known: dict[str, list] = {}
        self._seen: dict[str, list] = {}
        if path is not None:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                if record.get("version") == self.VERSION and isinstance(record.get("files"), dict):
                    self._known = record["files"]
            except (OSError, ValueError, AttributeError):
                pass

    def sha256(self, full: bytes, stat: os.stat_result) -> str:
        key = hashlib.sha256(os.path.abspath(full)).hexdigest()
        fingerprint = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
        known = self._known.get(key)
        if isinstance(known, list) and len(known) == 4 and known[:3] == fingerprint and isinstance(known[3], str):
            sha = known[3]
        else:
            sha = sha256_of(Path(os.fsdecode(full)))
        if time.time_ns() - stat.st_ctime_ns > self.RECENT_NS:
            self._seen[key] = [*fingerprint, sha]
        return sha

    def save(self) -> None:
        if self._path is None or self._seen == self._known:
            return
        content = json.dumps({"version": self.VERSION, "files": self._seen}, separators=(",", ":"))
        try:
            write_whole(self._path, content, 0o600)
        except OSError:  # a read-only warehouse: the files are hashed again next time
            pass


def stray_files(sources_dir: Path) -> list[str]:
    """Files in the inbox that no refresh reads (outside towns/ and registries/): a workbook
    dropped in the wrong folder is named, not left unnoticed. Same skips as `discover`."""
    root = os.fsencode(sources_dir)
    if not os.path.isdir(root):
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if decode_name(d) not in {*INBOX_FOLDERS, *NOT_INPUT_FOLDERS}]
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(b"."))
        for raw_name in sorted(filenames):
            full = os.path.join(dirpath, raw_name)
            if is_skipped(decode_name(raw_name)) or os.path.islink(full) or not os.path.isfile(full):
                continue
            relative = "/".join(decode_name(p) for p in os.path.relpath(full, root).split(os.sep.encode()))
            found.append(masked_in_text(relative))  # shown as every file name is shown
    return found


def unreadable_reason(path: Path, size: int) -> str | None:
    """Why a workbook cannot be opened (zero_bytes, encrypted, corrupt, archive, not_workbook), else None."""
    if size == 0:
        return "zero_bytes"
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic == _OLE_MAGIC:
        return "encrypted" if _is_encrypted(path) else None
    if magic.startswith(_ARCHIVE_MAGICS):
        return "archive"
    if magic[:2] == b"PK":
        try:
            with zipfile.ZipFile(path) as archive:
                if archive.testzip() is not None:
                    return "corrupt"
                names = archive.namelist()
                if "[Content_Types].xml" not in names:
                    # a zip a clerk packed, unless it holds a workbook's parts (a damaged workbook)
                    # or an OpenDocument file's (its mimetype part)
                    is_document = "mimetype" in names or any(name.startswith("xl/") for name in names)
                    return "corrupt" if is_document else "archive"
        # testzip reports a bad checksum; damaged compressed data raises (zlib.error), an
        # unsupported compression method too (NotImplementedError), a password-protected part too
        # (RuntimeError): each is a file no one can open, not a reason to stop the refresh.
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError):
            return "corrupt"
        return None
    return "not_workbook"


def _is_encrypted(path: Path) -> bool:
    import msoffcrypto

    try:
        with path.open("rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # not an Office container msoffcrypto knows: calamine decides
        return False
