"""Which host paths a server needs to see, read-only: system, interpreter, script, caches."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ETC_FILES", "ROOT_LINKS", "interpreter_paths", "runner_caches", "script_of", "tool_cache_paths"]

# Top-level directories that are symbolic links into /usr on merged-/usr systems.
ROOT_LINKS: tuple[str, ...] = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

# The parts of /etc a program needs (name service, TLS roots, time zone, dynamic loader);
# never all of /etc, which holds /etc/shadow and service credentials.
ETC_FILES: tuple[str, ...] = (
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/gai.conf",
    "/etc/group",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/etc/passwd",
    "/etc/resolv.conf",
    "/etc/ssl",
    "/etc/timezone",
)

_INTERPRETERS = ("python", "node", "deno", "bun", "ruby", "perl", "sh", "bash")
_SYSTEM_PREFIXES = ("/usr/", "/bin/", "/sbin/", "/lib")


def _venv_root(executable: str) -> Path | None:
    root = Path(executable).parent.parent
    return root if (root / "pyvenv.cfg").is_file() else None


def _venv_home(root: Path) -> Path | None:
    for line in (root / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip().startswith("/"):
            return Path(value.strip()).parent
    return None


def _pth_directories(prefix: Path) -> list[str]:
    """Absolute directories named in ``*.pth`` files (editable installs) of a prefix."""
    found: list[str] = []
    for pth in sorted(prefix.glob("lib/python3*/site-packages/*.pth")):
        for line in pth.read_text(encoding="utf-8", errors="replace").splitlines():
            entry = line.strip()
            if entry.startswith("/") and Path(entry).is_dir():
                found.append(entry)
    return found


def _python_prefix(path: Path) -> list[str]:
    """The prefix (and editable-install sources) of a Python venv or installation."""
    out: list[str] = []
    if (path / "pyvenv.cfg").is_file():
        out.append(str(path))
        home = _venv_home(path)
        if home is not None and not str(home).startswith(_SYSTEM_PREFIXES):
            out.append(str(home))
    elif any(path.glob("lib/python3*")) and not str(path).startswith(_SYSTEM_PREFIXES):
        out.append(str(path))
    out.extend(_pth_directories(path))
    return out


@functools.lru_cache(maxsize=64)
def _interpreter_paths(executable: str) -> tuple[str, ...]:
    return tuple(_find_interpreter_paths(executable))


def interpreter_paths(executable: str) -> list[str]:
    """Directories the executable needs (cached per process: probing costs ~15 ms)."""
    return list(_interpreter_paths(executable))


def _find_interpreter_paths(executable: str) -> list[str]:
    """Directories the executable needs: its venv, base installation, editable sources.

    Also the running interpreter's ``sys.prefix`` and ``sys.base_prefix`` (servers are
    often started with the gateway's own interpreter). System directories are left out:
    /usr is mounted anyway.
    """
    out: list[str] = []
    venv = _venv_root(executable)
    if venv is not None:
        out += _python_prefix(venv)
    real = Path(os.path.realpath(executable))
    if not str(real).startswith(_SYSTEM_PREFIXES):
        # Only a Python binary implies a prefix; anything else is mounted as itself.
        is_python = real.name.startswith("python")
        out += (_python_prefix(real.parent.parent) if is_python else []) or [str(real)]
    for prefix in (sys.prefix, sys.base_prefix):
        if not prefix.startswith(_SYSTEM_PREFIXES):
            out += _python_prefix(Path(prefix))
    if not executable.startswith(_SYSTEM_PREFIXES):
        out.append(executable)
    return list(dict.fromkeys(out))


def script_of(executable: str, args: Sequence[str]) -> tuple[int, str] | None:
    """The index in ``args`` and absolute path of the script an interpreter runs, if any."""
    name = Path(executable).name
    if not name.startswith(_INTERPRETERS):
        return None
    for index, arg in enumerate(args):
        if arg in {"-m", "-c", "-e", "--eval"}:
            return None  # a module or inline code: the interpreter digest is what we have
        if arg.startswith("-"):
            continue
        path = Path(arg)
        return (index, str(path.resolve())) if path.is_file() else None
    return None


_UV = frozenset({"uvx", "uv"})
_NPM = frozenset({"npx", "npm"})


def runner_caches(executable: str, environ: Mapping[str, str]) -> dict[str, str]:
    """A package runner's cache, as ``{variable that points the runner at it: path}``.

    ``uvx``/``uv``: ``UV_CACHE_DIR`` (default ``~/.cache/uv``); ``npx``/``npm``:
    ``npm_config_cache`` (default ``~/.npm``). Only caches that exist; nothing for other
    programs. The sandbox shows each one read-only (see ``plan.py``) and sets the variable,
    since the server's ``HOME`` is its work directory, not the user's home.
    """
    home = environ.get("HOME", "")
    name = Path(executable).name
    found: dict[str, str] = {}
    if name in _UV and (environ.get("UV_CACHE_DIR") or home):
        found["UV_CACHE_DIR"] = environ.get("UV_CACHE_DIR") or f"{home}/.cache/uv"
    if name in _NPM and (environ.get("npm_config_cache") or home):
        found["npm_config_cache"] = environ.get("npm_config_cache") or f"{home}/.npm"
    return {var: path for var, path in found.items() if path.startswith("/") and Path(path).is_dir()}


def tool_cache_paths(executable: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Other read-only directories of ``uvx``: uv's managed interpreters and installed tools.

    As ``{path: variable pointing uv at it, or ""}``.
    """
    home = environ.get("HOME", "")
    if Path(executable).name not in _UV or not home:
        return {}
    paths = {
        f"{home}/.local/share/uv/python": "UV_PYTHON_INSTALL_DIR",
        f"{home}/.local/share/uv/tools": "UV_TOOL_DIR",
        f"{home}/.local/bin": "",
    }
    return {path: var for path, var in paths.items() if Path(path).exists()}
