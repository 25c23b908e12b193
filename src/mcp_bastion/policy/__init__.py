"""Cedar policy: entities, the default policy, pure evaluation, capability classes."""

from __future__ import annotations

from mcp_bastion.policy.capabilities import CAPABILITIES, DANGEROUS, classify_tool
from mcp_bastion.policy.engine import ACTIONS, PolicyDecision, PolicyEngine, default_policy_dir
from mcp_bastion.policy.entities import (
    ResourceRef,
    capability_class,
    prompt_resource,
    resource_resource,
    server_resource,
    shallow_arguments,
    tool_resource,
)

__all__ = [
    "ACTIONS",
    "CAPABILITIES",
    "DANGEROUS",
    "PolicyDecision",
    "PolicyEngine",
    "ResourceRef",
    "capability_class",
    "classify_tool",
    "default_policy_dir",
    "prompt_resource",
    "resource_resource",
    "server_resource",
    "shallow_arguments",
    "tool_resource",
]
