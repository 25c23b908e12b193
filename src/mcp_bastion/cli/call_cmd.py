"""``bastion call TARGET TOOL [key=value ...]``: call one tool of any MCP server and print the result.

TARGET is an ``http(s)://`` Streamable HTTP endpoint or ``stdio:<command line>``. Values are
parsed as JSON when they are valid JSON (``switch_id=12`` is a number, ``ice=true`` a
boolean) and taken as strings otherwise. Exit status: 0 on success, 1 when the tool reports
an error, 2 when the server cannot be reached or refuses the request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx2
import typer
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from mcp_bastion.config.sandbox import SandboxProfile
from mcp_bastion.scanner.targets import TargetError, connect, parse_target

__all__ = ["call", "parse_arguments", "render_result"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
EXIT_TOOL_ERROR = 1
EXIT_UNREACHABLE = 2


def parse_arguments(pairs: list[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (JSON when valid JSON, else the raw string)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not _KEY.fullmatch(key):
            raise typer.BadParameter(f"expected key=value, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def render_result(result: CallToolResult, as_json: bool) -> str:
    """The text to print for ``result``: the full result as JSON, or its payload for humans."""
    if as_json:
        return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2)
    if result.structured_content is not None and not result.is_error:
        return json.dumps(result.structured_content, indent=2, ensure_ascii=False)
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def _call(
    target: str, tool: str, arguments: dict[str, Any], token: str | None, profile: SandboxProfile
) -> CallToolResult:
    try:
        parsed = parse_target(target, token=token)
    except TargetError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if parsed.kind == "stdio":
        # Started in the sandbox like every stdio server mcp-bastion runs; it may write in
        # the current directory (servers keep their data next to where they are started)
        # and in the --write-path directories.
        async with connect(parsed, profile=profile, cwd=str(Path.cwd())) as client:
            return await client.call_tool(tool, arguments)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    # The SDK's recommended timeouts: a short connect, a long read for held-open streams.
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http,
        Client(streamable_http_client(parsed.url, http_client=http)) as client,
    ):
        return await client.call_tool(tool, arguments)


def call(
    target: Annotated[str, typer.Argument(help="http(s)://host:port/mcp or stdio:<command line>")],
    tool: Annotated[str, typer.Argument(help="Tool name")],
    arguments: Annotated[list[str] | None, typer.Argument(help="key=value arguments")] = None,
    *,
    token: Annotated[
        str | None, typer.Option("--token", envvar="BASTION_TOKEN", help="Bearer token (HTTP targets).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    write_path: Annotated[
        list[Path] | None,
        typer.Option("--write-path", help="stdio: a directory the server may write (repeat)."),
    ] = None,
    isolation: Annotated[
        str, typer.Option("--isolation", help="stdio: auto, bubblewrap, landlock or none.")
    ] = "auto",
) -> None:
    """Call TOOL on the MCP server at TARGET and print the result."""
    args = parse_arguments(arguments or [])
    try:
        profile = SandboxProfile.model_validate(
            {
                "isolation": isolation,
                "write_paths": [str(Path.cwd()), *(str(p.resolve()) for p in write_path or [])],
            }
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        result = anyio.run(_call, target, tool, args, token, profile)
    except typer.BadParameter:
        raise
    except Exception as exc:  # any transport/protocol failure is reported, not dumped
        hint = (
            " (is the server up, and is --token / BASTION_TOKEN valid for it?)"
            if target.startswith("http")
            else ""
        )
        typer.echo(f"error: {target.split('?')[0]}: {_describe(exc)}{hint}", err=True)
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    typer.echo(render_result(result, as_json), err=result.is_error and not as_json)
    if result.is_error:
        raise typer.Exit(EXIT_TOOL_ERROR)


def _describe(exc: BaseException) -> str:
    """A one-line reason; unwraps task-group exception groups to their first cause."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
