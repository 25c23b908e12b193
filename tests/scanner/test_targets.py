"""Target parsing, client configuration files (three formats) and discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_bastion.scanner.targets import (
    TargetError,
    discover_configs,
    load_client_config,
    parse_target,
    resolve_targets,
)


def test_parse_stdio_and_url() -> None:
    t = parse_target("stdio:python examples/vulnerable/seed_server.py --transport stdio")
    assert t.kind == "stdio"
    assert t.argv == ("python", "examples/vulnerable/seed_server.py", "--transport", "stdio")
    assert t.name == "seed_server"
    assert t.display == "stdio:python examples/vulnerable/seed_server.py --transport stdio"
    u = parse_target("https://mcp.example:8443/mcp?x=1", token="tok")
    assert (u.kind, u.name, u.display, u.token) == (
        "http",
        "mcp.example:8443",
        "https://mcp.example:8443/mcp",
        "tok",
    )
    assert "tok" not in repr(u)


@pytest.mark.parametrize("bad", ["stdio:", "ftp://x", "seed_server.py"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(TargetError):
        parse_target(bad)


def test_claude_cursor_vscode_formats(tmp_path: Path) -> None:
    claude = tmp_path / "claude.json"
    claude.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "db": {"command": "python", "args": ["server.py"], "env": {"API_KEY": "k"}},
                    "remote": {"url": "https://r.example/mcp", "headers": {"X-Team": "a"}},
                }
            }
        )
    )
    vscode = tmp_path / "mcp.json"
    vscode.write_text(
        json.dumps({"servers": {"grid": {"type": "stdio", "command": "bastion gridops serve"}}})
    )
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"mcp": {"servers": {"w": {"serverUrl": "http://127.0.0.1:9/mcp"}}}}))
    a = load_client_config(claude)
    assert [(t.name, t.kind) for t in a] == [("db", "stdio"), ("remote", "http")]
    assert a[0].env == {"API_KEY": "k"}
    assert "k" not in a[0].display
    assert a[1].headers == {"X-Team": "a"}
    assert load_client_config(vscode)[0].argv == ("bastion", "gridops", "serve")
    assert load_client_config(settings)[0].url == "http://127.0.0.1:9/mcp"


@pytest.mark.parametrize(
    "doc",
    [
        '{"mcpServers": {"x": {"args": []}}}',
        "[]",
        "{}",
        '{"mcpServers": {"x": {"command": "a", "env": [1]}}}',
    ],
)
def test_bad_configs(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(doc)
    with pytest.raises(TargetError):
        load_client_config(path)


def test_discover_and_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, project = tmp_path / "home", tmp_path / "proj"
    (home / ".cursor").mkdir(parents=True)
    (project / ".vscode").mkdir(parents=True)
    (home / ".cursor/mcp.json").write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}))
    (project / ".vscode/mcp.json").write_text(json.dumps({"servers": {"a": {"command": "y"}}}))
    found = discover_configs(home=home, cwd=project)
    assert found == [home / ".cursor/mcp.json", project / ".vscode/mcp.json"]
    targets = resolve_targets([str(p) for p in found])
    assert [t.name for t in targets] == ["a", "a#2"]  # names stay unique in the report
