"""Files replaced whole: written beside their place, then renamed over it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` so that a reader sees the old file or the new one, never half of
    one, the new one with `mode`. An OSError (a full disk, a read-only folder) leaves no partial
    file behind and is the caller's to report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(partial, mode)
        os.replace(partial, path)
    except OSError:
        Path(partial).unlink(missing_ok=True)
        raise
