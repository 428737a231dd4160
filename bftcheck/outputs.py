"""Output files: checked before the work starts, written whole or not at all.

`check_writable` creates and removes a probe file beside the target, so a
directory that is missing, read-only or not a real file system (/proc) is
reported before a long search rather than after it. `write_atomic` writes a
temporary file in the same directory and renames it over the target: a
reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bftcheck.outcome import OutputError


def check_writable(path: str | Path | None, flag: str) -> None:
    """Raise OutputError (one line naming `flag` and the path) if `path`
    cannot be written; do nothing for None."""
    if path is None:
        return
    target = _resolved(path)
    if target.is_dir():
        raise OutputError(f"{flag} {path}: it is a directory; give a file name")
    if str(path).endswith(os.sep):
        raise OutputError(f"{flag} {path}: it names a directory; give a file name")
    if target.exists() and not target.is_file():
        # a device, FIFO or socket: the rename of an atomic write would replace it
        raise OutputError(f"{flag} {path}: it is not a regular file; give the path of a file")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"{flag} {path}: directory {parent} does not exist; create it or "
                          f"choose another path")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{flag} {path}: the file is not writable; choose another path")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{flag} {path}: cannot write in {parent} ({exc.strerror}); choose "
                          f"another path") from None


def write_atomic(path: str | Path, text: str, what: str = "output") -> None:
    """Write `text` to `path` whole (temp file + rename) or raise OutputError.
    A symbolic link is followed: the file it points to is replaced, not the link."""
    target = _resolved(path)
    if target.exists() and not target.is_file():
        raise OutputError(f"could not write the {what} to {path}: it is not a regular file; "
                          f"nothing was written there")
    parent = target.parent
    from bftcheck import stop

    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
        with stop.on_abort(lambda: os.unlink(tmp)):
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is for the probe, not the file
            os.replace(tmp, target)
            tmp = None
    except OSError as exc:
        raise OutputError(f"could not write the {what} to {path} ({exc.strerror or exc}); "
                          f"nothing was written there") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two output paths name one file (links followed)."""
    return _resolved(a) == _resolved(b)


def remove_stale(path: str | Path) -> None:
    """Remove the regular file at `path` if there is one (a report from an
    earlier run); OutputError with one line if it cannot be removed."""
    target = _resolved(path)
    if not target.is_file():
        return
    try:
        target.unlink()
    except OSError as exc:
        raise OutputError(f"could not remove the earlier report {path}: "
                          f"{exc.strerror or exc}; remove it or choose another path") from None


def _resolved(path: str | Path) -> Path:
    """The real path (symbolic links followed), so a rename lands where the link
    points; the file itself need not exist yet."""
    return Path(os.path.realpath(path))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
