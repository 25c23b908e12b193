"""``bastion fuzz``: JSON-RPC fuzzing of an MCP server or the gateway at the message level.

``fuzz(factory, FuzzOptions(cases, seed, timeout_s, reproducers))`` sends seeded cases
(:func:`make_case`) over a byte :class:`Channel` (a sandboxed stdio process from
:func:`stdio_channel`, or an SDK server in this process from :func:`memory_channel`) and
reports crashes, hangs, malformed responses and memory growth, with minimised reproducers.
"""

from mcp_bastion.fuzzer.cases import KINDS, Case, handshake, make_case
from mcp_bastion.fuzzer.channels import (
    Channel,
    ChannelFactory,
    memory_channel,
    process_tree_rss,
    stdio_channel,
)
from mcp_bastion.fuzzer.runner import FuzzIssue, FuzzOptions, FuzzReport, check_line, fuzz, replay

__all__ = [
    "KINDS",
    "Case",
    "Channel",
    "ChannelFactory",
    "FuzzIssue",
    "FuzzOptions",
    "FuzzReport",
    "check_line",
    "fuzz",
    "handshake",
    "make_case",
    "memory_channel",
    "process_tree_rss",
    "replay",
    "stdio_channel",
]
