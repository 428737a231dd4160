"""Checkpoints of the compiled search, written at level boundaries.

A checkpoint folder holds each worker's parent log (append-only), its
fingerprint table and the level it was about to expand (and, with several
workers, that level's global ranks), and `manifest.json`, written last and
atomically, naming those files with their sizes and CRC-32s. A resume checks
the manifest against the run (same model, configuration, properties, worker
count and bftcheck version) and every file against its CRC, and refuses with
one line anything that does not fit: a checkpoint is never half-trusted.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Any

from bftcheck.inputs import InputError

FORMAT = 1
MANIFEST = "manifest.json"


class CheckpointError(InputError):
    """A checkpoint that cannot be resumed (exit 2)."""


def crc_of(path: str, length: int | None = None, start: int = 0, crc: int = 0) -> int:
    """CRC-32 of the file's first `length` bytes (all of it by default); with
    `start` and `crc`, that of bytes [0, start) given: only the rest is read."""
    left = None if length is None else length - start
    with open(path, "rb") as f:
        f.seek(start)
        while left is None or left > 0:
            block = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            crc = zlib.crc32(block, crc)
            if left is not None:
                left -= len(block)
    return crc


def _describe(folder: str, part: dict[str, Any], me: int,
              before: dict[str, Any]) -> dict[str, Any]:
    """The files of one worker's part, with what a resume checks. A parent log
    only grows past a checkpoint, so its CRC goes on from the last one's
    (`before`: that checkpoint's files), reading only what was appended."""
    files = {}
    for key in ("table", "level", "ranks"):
        if key in part:
            path = os.path.join(folder, part[key])
            files[part[key]] = {"size": os.path.getsize(path), "crc": crc_of(path)}
    log = f"parents-w{me}.log"
    length = part["parents_bytes"]
    start, crc = 0, 0
    if log in before and before[log]["size"] <= length:
        start, crc = before[log]["size"], before[log]["crc"]
    files[log] = {"size": length, "crc": crc_of(os.path.join(folder, log), length, start, crc),
                  "prefix": True}
    return files


def write(folder: str, identity: dict[str, Any], run: dict[str, Any], search: dict[str, Any],
          parts: list[dict[str, Any]]) -> None:
    """Write the manifest for the parts just saved, then drop older files."""
    before = _previous_files(folder, len(parts))
    manifest = {"format": FORMAT, "identity": identity, "run": run, "search": search,
                "workers": parts,
                "files": [_describe(folder, p, me, before[me]) for me, p in enumerate(parts)]}
    for files in manifest["files"]:  # on disk before the manifest that names them
        for name in files:
            _sync(os.path.join(folder, name))
    tmp = os.path.join(folder, MANIFEST + ".tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(folder, MANIFEST))
    _sync(folder)  # the rename itself
    keep = {name for files in manifest["files"] for name in files}
    for name in os.listdir(folder):
        if name.startswith(("table-", "ranks-", "level-")) and name not in keep:
            os.remove(os.path.join(folder, name))


def _previous_files(folder: str, workers: int) -> list[dict[str, Any]]:
    """Each worker's files in the folder's current manifest (nothing if none)."""
    try:
        with open(os.path.join(folder, MANIFEST)) as f:
            files = json.load(f)["files"]
        if isinstance(files, list) and len(files) == workers:
            return files
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [{} for _ in range(workers)]


def _sync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(folder: str) -> dict[str, Any]:
    """The manifest of a checkpoint folder, every file checked; CheckpointError
    (one line) if it is missing, of another format, or damaged."""
    path = os.path.join(folder, MANIFEST)
    if not os.path.isdir(folder):
        raise CheckpointError(f"--resume {folder}: no such folder")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"--resume {folder}: no checkpoint there ({MANIFEST} is "
                              f"missing); give the folder a --checkpoint run wrote") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"--resume {folder}: {MANIFEST} is damaged ({exc}); "
                              f"start again without --resume") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"--resume {folder}: not a checkpoint of this format "
                              f"(format {FORMAT} expected)")
    for files in manifest.get("files", []):
        for name, info in files.items():
            _check_file(folder, name, info)
    return manifest


def _check_file(folder: str, name: str, info: dict[str, Any]) -> None:
    path = os.path.join(folder, name)
    try:
        size = os.path.getsize(path)
    except OSError:
        raise CheckpointError(f"--resume {folder}: the checkpoint's file {name} is "
                              f"missing; the checkpoint is damaged") from None
    short = size < info["size"] if info.get("prefix") else size != info["size"]
    if short or crc_of(path, info["size"]) != info["crc"]:
        raise CheckpointError(f"--resume {folder}: the checkpoint's file {name} is "
                              f"damaged (size or CRC differs); start again without --resume")


def check_identity(folder: str, manifest: dict[str, Any], identity: dict[str, Any]) -> None:
    """Refuse a checkpoint of another run, naming the first difference."""
    saved = manifest.get("identity", {})
    for key, value in identity.items():
        if saved.get(key) != value:
            raise CheckpointError(
                f"--resume {folder}: the checkpoint is of another run ({key}: "
                f"{_short(saved.get(key))}, this run: {_short(value)})")


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
