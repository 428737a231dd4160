"""Memory budgets: parse `--max-memory`, pick a safe default, read the RSS.

A search that outgrows the machine must end as INCOMPLETE with its summary,
not be killed by the kernel with no word. The engine polls `rss_bytes()` (one
read of /proc/self/statm) and stops before the budget is passed. The default
budget is a share of what is available when the command starts: MemAvailable,
capped by a cgroup limit and by RLIMIT_AS when either is set.
"""

from __future__ import annotations

import math
import os
import re
import resource
from pathlib import Path

# Leave room for the allocation that crosses the budget between two polls
# (a fingerprint table doubles) and for the rest of the machine.
DEFAULT_SHARE = 0.75
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_PAGE = os.sysconf("SC_PAGE_SIZE")


def parse_size(text: str, flag: str = "--max-memory") -> int:
    """'800M', '2G', '1.5g', '512k' or bytes -> bytes; raise InputError."""
    from bftcheck.inputs import InputError  # the user's input: exit 2

    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", text)
    if not m:
        raise InputError(f"{flag} {text!r} is not a size: give a number with an optional "
                          f"unit K, M, G or T (e.g. {flag} 4G)")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not math.isfinite(value) or value < 16 * 2**20:
        raise InputError(f"{flag} {text}: give at least 16M (a search needs room for its "
                          f"tables)")
    return int(value)


def format_size(n: float) -> str:
    for unit, size in (("G", 2**30), ("M", 2**20), ("K", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}iB"
    return f"{n:.0f} B"


def rss_bytes() -> int:
    """The resident set size of this process now."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):  # not Linux: the peak is the best we know
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Restart this process's peak-RSS count from its RSS now (Linux: write 5
    to /proc/self/clear_refs), so that `peak_bytes` measures one piece of work
    in a process that did other work before (tests, a coordinator); False if
    the system does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """The peak RSS since the process began or since `reset_peak` (VmHWM)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


# Under `ulimit -v` the address space, not the RSS, is what runs out first.
ADDRESS_SPACE_SHARE = 0.85


def address_space_limit() -> int | None:
    """The soft RLIMIT_AS (`ulimit -v`) in bytes, or None when unlimited."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def over_budget(max_rss: int | None, coming: int = 0) -> str | None:
    """Why memory is exhausted now (RSS past `max_rss`, or `coming` bytes
    about to be allocated would pass it, or the address space is near its
    RLIMIT_AS), or None."""
    if max_rss is not None:
        rss = rss_bytes()
        if rss >= max_rss:
            return f"memory limit of {format_size(max_rss)} reached (RSS {format_size(rss)})"
        if rss + coming >= max_rss:
            return (f"memory limit of {format_size(max_rss)} reached: the next growth of "
                    f"the state store ({format_size(coming)}) would pass it "
                    f"(RSS {format_size(rss)})")
    soft = address_space_limit()
    if soft is not None:
        used = address_space_bytes()
        if used is not None and used >= soft * ADDRESS_SPACE_SHARE:
            return (f"address-space limit (ulimit -v) of {format_size(soft)} nearly reached "
                    f"({format_size(used)} in use)")
    return None


def _meminfo_available() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    m = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) * 1024 if m else None


def _cgroup_room() -> int | None:
    for limit, used in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                        ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                         "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            cap = Path(limit).read_text().strip()
            if cap == "max" or int(cap) >= 2**60:
                return None
            return max(0, int(cap) - int(Path(used).read_text().strip()))
        except (OSError, ValueError):
            continue
    return None


def default_budget() -> int:
    """A safe share of the memory this process may still use, plus what it holds."""
    rooms = [r for r in (_meminfo_available(), _cgroup_room()) if r is not None]
    room = min(rooms) if rooms else 4 * 2**30
    return rss_bytes() + int(room * DEFAULT_SHARE)
