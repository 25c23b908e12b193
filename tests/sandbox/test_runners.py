"""``uvx pkg`` and ``npx pkg`` servers in the sandbox, the user's caches never written.

Each test builds a tiny MCP server package offline (a wheel for ``uvx``, an npm tarball
for ``npx``) in a temporary HOME and calls a tool through ``open_stdio``. ``uvx``: the
first run fills uv's cache (the profile makes it writable, as a user's first run would);
the second uses the default profile, the cache shown read-only (writes land in a private
tmpfs, or fail below its top level), the rest of HOME hidden. ``npx``: npm writes into its
cache on every run, so it gets a dedicated writable cache; the user's ``~/.npm`` is only
ever seen read-only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp_types import TextContent

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.sandbox import HostCapabilities, SpawnEvent, build_command, open_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

HOST = HostCapabilities.probe()
SERVERS = Path(__file__).with_name("runner_servers")
UVX = Path(sys.executable).parent / "uvx"  # the dev extra installs uv into the venv
NPX = shutil.which("npx")
KEY_TEXT = "-----BEGIN FAKE TEST KEY-----\n"
needs_bwrap = pytest.mark.skipif(HOST.bwrap is None, reason="bubblewrap is not installed")


def _wheel(directory: Path) -> Path:
    """Build ``tiny_mcp-0.1-py3-none-any.whl`` by hand (no build backend needed offline)."""
    files = {
        "tiny_mcp.py": (SERVERS / "tiny_mcp.py").read_text(encoding="utf-8"),
        "tiny_mcp-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: tiny-mcp\nVersion: 0.1\n",
        "tiny_mcp-0.1.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "tiny_mcp-0.1.dist-info/entry_points.txt": "[console_scripts]\ntiny-mcp = tiny_mcp:main\n",
    }
    path = directory / "tiny_mcp-0.1-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            data = text.encode()
            wheel.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append("tiny_mcp-0.1.dist-info/RECORD,,")
        wheel.writestr("tiny_mcp-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def _tarball(directory: Path) -> Path:
    """Build an npm package tarball (``package/`` prefix, as ``npm pack`` makes it)."""
    package = {"name": "tiny-mcp-node", "version": "0.1.0", "bin": {"tiny-mcp-node": "server.js"}}
    files = {
        "package/package.json": (json.dumps(package).encode(), 0o644),
        "package/server.js": ((SERVERS / "tiny_mcp.js").read_bytes(), 0o755),
    }
    path = directory / "tiny-mcp-node-0.1.0.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return path


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str) -> tuple[Path, Path]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(KEY_TEXT, encoding="utf-8")
    (home / cache).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("UV_CACHE_DIR", raising=False)
    monkeypatch.delenv("npm_config_cache", raising=False)
    packages = tmp_path / "packages"
    packages.mkdir()
    return home, packages


async def _text(session: ClientSession, tool: str, **args: Any) -> str:
    result = await session.call_tool(tool, args)
    assert not result.is_error, result
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _run(
    command: list[str], profile: SandboxProfile, calls: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    events: list[SpawnEvent] = []
    async with (
        open_stdio(command, profile=profile, on_event=events.append) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        names = [tool.name for tool in (await session.list_tools()).tools]
        assert names == ["hello", "read", "touch"]
        out = [await _text(session, tool, **args) for tool, args in calls]
    assert events[0].isolation_used == "bubblewrap"
    return out


async def _first_then_default(
    command: list[str], packages: Path, cache: Path, home: Path, greeting: str
) -> None:
    first = SandboxProfile(read_paths=[str(packages)], write_paths=[str(cache)])
    assert await _run(command, first, [("hello", {})]) == [greeting]
    before = sorted(path.name for path in cache.iterdir())  # noqa: ASYNC240 - a small test directory
    entry = next(path for path in cache.iterdir() if path.is_dir())  # noqa: ASYNC240 - likewise
    default = SandboxProfile(read_paths=[str(packages)])
    results = await _run(
        command,
        default,
        [
            ("hello", {}),
            ("read", {"path": str(home / ".ssh" / "id_rsa")}),
            ("touch", {"path": str(cache / "planted")}),
            ("touch", {"path": str(entry / "planted")}),
        ],
    )
    assert results[0] == greeting
    assert results[1].startswith("error"), results[1]  # the rest of HOME is hidden
    assert results[2] == "ok"  # the cache's top level is a private tmpfs ...
    assert results[3].startswith("error"), results[3]  # ... and its entries are read-only
    assert sorted(path.name for path in cache.iterdir()) == before  # noqa: ASYNC240 - nothing reached the host
    assert not (entry / "planted").exists()


@needs_bwrap
@pytest.mark.skipif(not UVX.exists(), reason="uv is not installed in the venv (pip install -e '.[dev]')")
async def test_uvx_server_runs_under_the_default_profile_with_a_read_only_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, packages = _home(tmp_path, monkeypatch, ".cache/uv")
    wheel = _wheel(packages)
    command = [str(UVX), "--offline", "--from", str(wheel), "tiny-mcp"]
    await _first_then_default(command, packages, home / ".cache" / "uv", home, "hello from tiny-mcp (python)")


@needs_bwrap
@pytest.mark.skipif(NPX is None, reason="npx (Node.js) is not installed")
async def test_npx_server_runs_with_a_dedicated_cache_and_never_writes_the_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # npm 11 writes into its cache on every run (index entries, _npx/<hash>/concurrency.lock),
    # so a read-only cache cannot work: a dedicated cache for sandboxed servers is writable.
    assert NPX is not None
    home, packages = _home(tmp_path, monkeypatch, ".npm")
    tarball = _tarball(packages)
    command = [NPX, "--yes", f"--package={tarball}", "tiny-mcp-node"]
    dedicated = tmp_path / "bastion-npm"
    dedicated.mkdir()
    profile = SandboxProfile(
        read_paths=[str(packages)], write_paths=[str(dedicated)], env={"npm_config_cache": str(dedicated)}
    )
    for _ in range(2):  # the first run fills the cache, the second uses it
        results = await _run(
            command, profile, [("hello", {}), ("read", {"path": str(home / ".ssh" / "id_rsa")})]
        )
        assert results[0] == "hello from tiny-mcp (node)"
        assert results[1].startswith("error"), results[1]  # the home stays hidden
    assert (dedicated / "_npx").is_dir()
    assert list((home / ".npm").iterdir()) == []

    # The user's own cache, filled outside the sandbox, is only ever seen read-only: npm
    # cannot take its lock there, the server does not start, and the cache is unchanged.
    for entry in dedicated.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, home / ".npm" / entry.name)
    before = sorted(str(p) for p in (home / ".npm").rglob("*"))
    with pytest.raises(Exception):  # noqa: B017 - the connection closes; the error type is the SDK's
        await _run(command, SandboxProfile(read_paths=[str(packages)]), [("hello", {})])
    assert sorted(str(p) for p in (home / ".npm").rglob("*")) == before


def test_runner_env_and_mounts_in_the_plan(tmp_path: Path) -> None:
    cache = tmp_path / "home" / ".cache" / "uv"
    (cache / "archive-v0").mkdir(parents=True)
    (cache / ".lock").write_text("", encoding="utf-8")
    (cache / "link").symlink_to("/etc")
    environ = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    host = HostCapabilities(bwrap="/usr/bin/bwrap", landlock_abi=7)
    plan = build_command(["/usr/bin/env", "true"], SandboxProfile(), host=host, environ=environ)
    assert "UV_CACHE_DIR" not in plan.env  # not a package runner: no cache, no variable
    runner = tmp_path / "uvx"
    runner.write_text("#!/bin/sh\n", encoding="utf-8")
    runner.chmod(0o755)
    plan = build_command([str(runner), "pkg"], SandboxProfile(), host=host, environ=environ)
    argv = plan.argv(fds={"seccomp": 3, "info": 4, "block": 5})
    assert plan.env["UV_CACHE_DIR"] == str(cache)
    assert plan.env["UV_OFFLINE"] == "1"
    tmpfs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--tmpfs"]
    assert str(cache) in tmpfs
    ro = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"]
    assert str(cache / "archive-v0") in ro
    assert str(cache / ".lock") not in ro  # lock files are made fresh in the tmpfs
    assert str(cache / "link") not in ro  # symbolic links are not followed into the sandbox
    assert str(tmp_path / "home") not in ro
    host_profile = SandboxProfile(network="host")
    assert "UV_OFFLINE" not in build_command([str(runner)], host_profile, host=host, environ=environ).env
