"""What isolation this machine offers: bubblewrap, Landlock, a writable pids cgroup.

Probed once per process (``HostCapabilities.probe()``) and passed explicitly everywhere
else, so tests can describe a machine without the primitive instead of sniffing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio

__all__ = ["HostCapabilities", "PidsCgroup"]

_SYS_LANDLOCK_CREATE_RULESET = 444
_LANDLOCK_CREATE_RULESET_VERSION = 1
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_REMOVE_ATTEMPTS = 100
_REMOVE_PAUSE_S = 0.02


def _landlock_abi() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    abi = int(
        libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION)
    )
    return max(abi, 0)


def _pids_cgroup_parent() -> str | None:
    """A directory under which we may create a child cgroup with ``pids.max``, or None."""
    unified = _CGROUP_ROOT / "cgroup.controllers"
    candidates: list[Path] = []
    if unified.exists() and "pids" in unified.read_text(encoding="ascii").split():
        candidates.append(_CGROUP_ROOT)
    candidates.append(_CGROUP_ROOT / "pids")  # cgroup v1 hierarchy
    for parent in candidates:
        if (parent / "cgroup.procs").exists() and os.access(parent, os.W_OK):
            return str(parent)
    return None


@dataclass(frozen=True)
class HostCapabilities:
    """The isolation primitives found on this machine.

    ``bwrap``: absolute path of the bubblewrap binary or None; ``landlock_abi``: 0 when
    Landlock is unavailable; ``pids_cgroup``: a cgroup directory we may create children
    in (v2 with the pids controller, or the v1 pids hierarchy), or None.
    """

    bwrap: str | None
    landlock_abi: int
    pids_cgroup: str | None = None

    @staticmethod
    @functools.cache
    def probe(bwrap_path: str | None = None) -> HostCapabilities:
        """Look the primitives up on this machine (``bwrap_path`` overrides the PATH lookup)."""
        bwrap = bwrap_path if bwrap_path is not None else shutil.which("bwrap")
        if bwrap is not None and not os.access(bwrap, os.X_OK):
            bwrap = None
        return HostCapabilities(bwrap=bwrap, landlock_abi=_landlock_abi(), pids_cgroup=_pids_cgroup_parent())


class PidsCgroup:
    """A per-server child cgroup whose ``pids.max`` bounds processes and threads.

    Created before the spawn, joined by the launcher stage, removed after the exit.
    Creation failures return None (the RLIMIT_NPROC fallback still applies).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def procs(self) -> str:
        """The ``cgroup.procs`` file the launcher writes its pid into."""
        return str(self.path / "cgroup.procs")

    @classmethod
    def create(cls, parent: str, max_pids: int) -> PidsCgroup | None:
        """Make ``parent/bastion-<random>`` with ``pids.max = max_pids``; None if refused."""
        path = Path(parent) / f"bastion-{uuid.uuid4().hex[:16]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids), encoding="ascii")
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path)

    def remove(self) -> None:
        """One attempt to remove the cgroup; a busy one is left behind (prefer ``remove_when_empty``)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()

    async def remove_when_empty(self) -> None:
        """Remove the cgroup once empty; killed tasks take a moment to leave (EBUSY meanwhile)."""
        for _ in range(_REMOVE_ATTEMPTS):
            try:
                self.path.rmdir()
            except FileNotFoundError:
                return
            except OSError:
                await anyio.sleep(_REMOVE_PAUSE_S)
            else:
                return
