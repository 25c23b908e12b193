"""Write and control tools: records, work orders, switching simulation and switching.

Writes go through the service's read-write connection. ``operate_switch`` is the only tool
that changes the grid, and only with a fresh simulation token (see ``simulation.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import Field

from gridops.server.common import PRINTABLE, TEXT_BLOCK, Action, AssetIdArg, ToolEnv, guarded, strict_tool
from gridops.server.roles import OVERRIDE_VIOLATIONS
from gridops.server.simulation import TOKEN_PATTERN, SimulationTokenError

__all__ = ["write_tools"]

SwitchId = Annotated[int, Field(ge=0, le=999_999_999, description="Numeric switch id (the N of 'switch:N').")]


def write_tools(env: ToolEnv) -> list[Tool]:
    """The write and control tools bound to ``env``."""

    def insert_record(
        name: Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)],
        address: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)],
    ) -> dict[str, Any]:
        principal = env.authorized("insert_record")
        return guarded(lambda: env.service.insert_record(name, address, principal.subject))

    def create_work_order(
        asset_id: AssetIdArg,
        title: Annotated[str, Field(min_length=1, max_length=120, pattern=PRINTABLE)],
        description: Annotated[str, Field(min_length=1, max_length=2000, pattern=TEXT_BLOCK)],
        priority: Literal["low", "medium", "high", "critical"] = "medium",
    ) -> dict[str, Any]:
        principal = env.authorized("create_work_order")
        return guarded(
            lambda: env.service.create_work_order(asset_id, title, description, priority, principal.subject)
        )

    def simulate_switching(switch_id: SwitchId, action: Action) -> dict[str, Any]:
        principal = env.authorized("simulate_switching")
        result = guarded(lambda: env.service.simulate_switching(switch_id, action))
        token, claims = env.simulations.issue(
            switch_id, action, result.state_version, principal.subject, violations=bool(result.violations)
        )
        impact = result.to_dict()
        impact["simulation_token"] = token
        impact["simulation_token_expires_at"] = datetime.fromtimestamp(claims.expires_at, UTC).isoformat()
        impact["operation_allowed"] = principal.may("operate_switch") and (
            not result.violations or principal.may(OVERRIDE_VIOLATIONS)
        )
        return impact

    def operate_switch(
        switch_id: SwitchId,
        action: Action,
        simulation_token: Annotated[
            str, Field(max_length=1200, pattern=TOKEN_PATTERN, description="From simulate_switching.")
        ],
        reason: Annotated[
            str, Field(min_length=3, max_length=500, pattern=PRINTABLE, description="Why, for the history.")
        ],
    ) -> dict[str, Any]:
        principal = env.authorized("operate_switch")
        try:
            claims = env.simulations.redeem(simulation_token, switch_id, action, principal.subject)
        except SimulationTokenError as exc:
            raise ToolError(f"refused: {exc}") from exc
        if claims.violations and not principal.may(OVERRIDE_VIOLATIONS):
            raise ToolError(
                "refused: the simulated state has limit violations; only a supervisor may operate anyway"
            )
        if guarded(env.service.state_version) != claims.state_version:
            raise ToolError("refused: the grid changed since the simulation; simulate the switching again")
        return guarded(
            lambda: env.service.operate_switch(
                switch_id, action, claims.state_version, principal.subject, reason
            )
        )

    return [
        strict_tool(
            insert_record,
            name="insert_record",
            title="Insert record",
            description="Store a record (name, address). Parameterized: text is stored literally.",
            read_only=False,
        ),
        strict_tool(
            create_work_order,
            name="create_work_order",
            title="Create work order",
            description="Open a maintenance work order on an asset.",
            read_only=False,
        ),
        strict_tool(
            simulate_switching,
            name="simulate_switching",
            title="Simulate switching",
            description="Run a power flow with one switch opened or closed (the grid is not changed) "
            "and return the impact: de-energized buses and load (MW), maximum line and transformer "
            "loading and voltage range before and after, new limit violations, and a "
            "simulation_token for operate_switch (bound to you, this switch and action and the "
            "current grid state; valid for a short time, once).",
            read_only=True,
            idempotent=True,
        ),
        strict_tool(
            operate_switch,
            name="operate_switch",
            title="Operate switch",
            description="Open or close a switch in the grid. Needs a fresh simulation_token from "
            "simulate_switching for the same switch and action, issued to you on the current grid "
            "state. Refused when the simulation found limit violations, unless you are a "
            "supervisor. Recorded in the switching history with your reason.",
            read_only=False,
            destructive=True,
        ),
    ]
