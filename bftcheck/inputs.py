"""Reading what a user gives, for any model: files refused with one line, and
values shown short in messages. Protocol-free (the engine layer and the trace
formats use it)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """Bad user input; the message is one line: what is wrong and how to fix it."""


# No configuration or trace bftcheck writes comes near this; a larger input is
# refused before it is read (a /dev/zero would otherwise fill the memory).
MAX_INPUT_BYTES = 256 * 2**20


def shown(value: Any, limit: int = 40) -> str:
    """A user's value for a one-line message: repr, long ones cut short (a
    400-digit number is not echoed back)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {len(str(abs(value))) if value.bit_length() < 14_000 else 'huge'}-digit number"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value) if not isinstance(value, (str, list, tuple)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."



def read_input(path: str | Path, what: str, error: type[ValueError] = InputError,
               limit: int = MAX_INPUT_BYTES) -> str:
    """A user's input file as text, or `error` with a one-line reason. Only
    regular files: a FIFO would block before any signal could stop it, and a
    device like /dev/zero never ends."""
    p = Path(path)
    try:
        if p.exists() and not p.is_dir() and not p.is_file():
            raise error(f"cannot read {what} {p}: it is not a regular file (a device, pipe or "
                        f"socket): give the path of a file")
        with p.open("rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise error(f"{what} {p} is larger than {limit // 2**10:,} KiB: give a {what} "
                        f"that bftcheck can read (one it wrote, or a short TOML table)")
        return data.decode("utf-8")
    except FileNotFoundError:
        raise error(f"{what} {p} does not exist: check the path") from None
    except IsADirectoryError:
        raise error(f"cannot read {what} {p}: it is a directory: give the path of a file") \
            from None
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what} {p}: it is not UTF-8 text (byte "
                    f"0x{exc.object[exc.start]:02x} at offset {exc.start}): give a text "
                    f"file") from None
    except OSError as exc:
        why = (exc.strerror or "unreadable").lower()
        raise error(f"cannot read {what} {p}: {why}: check the path and its permissions") \
            from None


MAX_CONFIG_BYTES = 2**20  # a configuration is a few lines


def read_toml_table(path: str | Path, error: type[ValueError] = InputError) -> dict[str, Any]:
    """A configuration file's TOML table, or `error` with a one-line reason."""
    p = Path(path)
    text = read_input(p, "config file", error, limit=MAX_CONFIG_BYTES)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{p} is not valid TOML ({exc}): fix the syntax") from None
    except ValueError:  # tomllib reads a number of over 4300 digits this way
        raise error(f"{p} holds a number too long to read (over 4300 digits): no "
                    f"setting is that large") from None
