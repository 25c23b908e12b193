"""Sandboxed launch and supervision of stdio MCP servers: the only code that starts processes.

``open_stdio(command, profile=...)`` yields the SDK's (read, write) stream pair of a server
running under bubblewrap (namespaces, seccomp, limits), or Landlock where bubblewrap is
missing, or unconfined only when the profile says ``isolation: none``. ``SandboxedStdio``
wraps it as an ``mcp.Client`` transport; ``Supervisor`` restarts a crashed server with
backoff and health-checks it. ``build_command`` shows the exact plan without starting it.
"""

from mcp_bastion.config.sandbox import RestartPolicy, SandboxProfile
from mcp_bastion.sandbox.events import SpawnEvent
from mcp_bastion.sandbox.host import HostCapabilities
from mcp_bastion.sandbox.plan import LaunchPlan, build_command
from mcp_bastion.sandbox.process import MessageTooLargeError, open_stdio
from mcp_bastion.sandbox.supervisor import Supervisor
from mcp_bastion.sandbox.transport import SandboxedStdio

__all__ = [
    "HostCapabilities",
    "LaunchPlan",
    "MessageTooLargeError",
    "RestartPolicy",
    "SandboxProfile",
    "SandboxedStdio",
    "SpawnEvent",
    "Supervisor",
    "build_command",
    "open_stdio",
]
