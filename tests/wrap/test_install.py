"""``bastion wrap --install``: every stdio server in a client config ends up wrapped, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_bastion.errors import ConfigError
from mcp_bastion.wrap.install import install, wrap_servers

BASTION = ["/opt/bastion/bin/bastion"]


def test_claude_desktop_config_is_wrapped_with_backup(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    original = {
        "mcpServers": {
            "files": {"command": "npx", "args": ["-y", "@mcp/server-filesystem", "/data"], "env": {"A": "1"}},
            "remote": {"url": "https://example.invalid/mcp"},
        },
        "theme": "dark",
    }
    path.write_text(json.dumps(original), encoding="utf-8")
    report = install(path, BASTION, ["--identity", "viewer"])
    doc = json.loads(path.read_text(encoding="utf-8"))
    files = doc["mcpServers"]["files"]
    assert files["command"] == BASTION[0]
    assert files["args"] == [
        "wrap",
        "--identity",
        "viewer",
        "--",
        "npx",
        "-y",
        "@mcp/server-filesystem",
        "/data",
    ]
    assert files["env"] == {"A": "1"}
    assert doc["mcpServers"]["remote"] == {"url": "https://example.invalid/mcp"}
    assert doc["theme"] == "dark"
    assert report.wrapped == ("files",) and report.skipped == ("remote",)
    assert report.backup is not None
    assert json.loads(report.backup.read_text(encoding="utf-8")) == original


def test_installing_twice_does_not_wrap_twice(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"servers": {"s": {"type": "stdio", "command": "python", "args": ["s.py"]}}}))
    install(path, BASTION)
    first = path.read_text(encoding="utf-8")
    report = install(path, BASTION)
    assert report.wrapped == () and report.backup is None
    assert path.read_text(encoding="utf-8") == first


def test_vscode_settings_mcp_table() -> None:
    doc = {"mcp": {"servers": {"git": {"command": "uvx", "args": ["mcp-server-git"]}}}}
    new, wrapped, _ = wrap_servers(doc, BASTION)
    assert wrapped == ["git"]
    assert new["mcp"]["servers"]["git"]["args"] == ["wrap", "--", "uvx", "mcp-server-git"]
    assert doc["mcp"]["servers"]["git"]["command"] == "uvx"  # input untouched


@pytest.mark.parametrize(
    "content", ["not json", "[1, 2]", '{"other": {}}', '{"mcpServers": {"x": {"command": "a", "args": "b"}}}']
)
def test_malformed_configs_are_refused_without_change(tmp_path: Path, content: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError):
        install(path, BASTION)
    assert path.read_text(encoding="utf-8") == content
    assert list(tmp_path.iterdir()) == [path]
