"""Server-to-client requests through the gateway core: MRTR rounds, sealed requestState, relays."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.request_state import AESGCMRequestStateCodec
from mcp_types import JSONRPCError, JSONRPCMessage, JSONRPCRequest, JSONRPCResponse
from tests.gateway.asking_server import build
from tests.gateway.harness import GatewayFactory, Harness, principal, request

from mcp_bastion.transports.downstream import Downstream
from mcp_bastion.types import Principal

pytestmark = pytest.mark.anyio

MODERN = "2026-07-28"
ALICE = principal("operator", subject="alice")
MALLORY = principal("operator", subject="mallory")


async def modern_call(
    harness: Harness, who: Principal, name: str, arguments: dict[str, Any], **extra: Any
) -> JSONRPCResponse | JSONRPCError:
    params = {"name": name, "arguments": arguments, **extra}
    reply = await harness.runtime.gateway.handle(
        request("tools/call", params), Downstream(principal=who, protocol_version=MODERN)
    )
    assert isinstance(reply, JSONRPCResponse | JSONRPCError)
    return reply


def interim(reply: JSONRPCResponse | JSONRPCError) -> tuple[dict[str, Any], str]:
    assert isinstance(reply, JSONRPCResponse), reply
    assert reply.result["resultType"] == "input_required"
    return reply.result["inputRequests"], reply.result["requestState"]


def accept(requests: dict[str, Any], ok: bool = True) -> dict[str, Any]:
    return {key: {"action": "accept", "content": {"ok": ok}} for key in requests}


def text_of(reply: JSONRPCResponse | JSONRPCError) -> str:
    assert isinstance(reply, JSONRPCResponse), reply
    return str(reply.result["content"][0]["text"])


async def test_modern_client_answers_an_elicitation_in_rounds(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"ask": build()}) as gw:
        first = await modern_call(gw, ALICE, "ask.confirm", {"action": "reboot"})
        requests, state = interim(first)
        (only,) = requests.values()
        assert only["method"] == "elicitation/create"
        assert only["params"]["message"] == "Really reboot?"
        done = await modern_call(
            gw,
            ALICE,
            "ask.confirm",
            {"action": "reboot"},
            requestState=state,
            inputResponses=accept(requests),
        )
        assert text_of(done) == "confirmed reboot"
        assert isinstance(done, JSONRPCResponse)
        assert done.result["resultType"] == "complete"


async def test_two_questions_take_two_rounds(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"ask": build()}) as gw:
        requests, state = interim(await modern_call(gw, ALICE, "ask.two_step", {}))
        assert [r["params"]["message"] for r in requests.values()] == ["First question?"]
        second = await modern_call(
            gw, ALICE, "ask.two_step", {}, requestState=state, inputResponses=accept(requests)
        )
        requests2, state2 = interim(second)
        assert [r["params"]["message"] for r in requests2.values()] == ["Second question?"]
        decline = {k: {"action": "decline"} for k in requests2}
        done = await modern_call(gw, ALICE, "ask.two_step", {}, requestState=state2, inputResponses=decline)
        assert text_of(done) == "accept/decline"


def _refused_state(reply: JSONRPCResponse | JSONRPCError) -> None:
    assert isinstance(reply, JSONRPCError), reply
    assert reply.error.code == -32602
    assert reply.error.message == "Invalid or expired requestState"


async def test_request_state_is_bound_and_single_use(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"ask": build()}) as gw:
        requests, state = interim(await modern_call(gw, ALICE, "ask.confirm", {"action": "reboot"}))
        answers = accept(requests)
        # Altered, another principal's, other arguments: all refused, and the call still waits.
        tampered = state[:-2] + ("AA" if state[-2:] != "AA" else "BB")
        _refused_state(
            await modern_call(
                gw, ALICE, "ask.confirm", {"action": "reboot"}, requestState=tampered, inputResponses=answers
            )
        )
        _refused_state(
            await modern_call(
                gw, MALLORY, "ask.confirm", {"action": "reboot"}, requestState=state, inputResponses=answers
            )
        )
        _refused_state(
            await modern_call(
                gw, ALICE, "ask.confirm", {"action": "wipe"}, requestState=state, inputResponses=answers
            )
        )
        _refused_state(await modern_call(gw, ALICE, "ask.confirm", {"action": "reboot"}, requestState=42))
        done = await modern_call(
            gw, ALICE, "ask.confirm", {"action": "reboot"}, requestState=state, inputResponses=answers
        )
        assert text_of(done) == "confirmed reboot"
        # Replaying a used state is refused.
        _refused_state(
            await modern_call(
                gw, ALICE, "ask.confirm", {"action": "reboot"}, requestState=state, inputResponses=answers
            )
        )


async def test_the_seal_is_what_stops_a_forged_state(gateway_for: GatewayFactory) -> None:
    """Whoever can mint envelopes steers a parked call: the gateway's key is the control."""
    async with gateway_for({"ask": build()}) as gw:
        bridge = gw.runtime.gateway.bridge
        assert bridge is not None
        seal = bridge._seal
        requests, state = interim(await modern_call(gw, ALICE, "ask.confirm", {"action": "reboot"}))
        envelope = seal._codec.unseal(state)
        # An attacker's own key: the gateway refuses the forgery.
        forged = AESGCMRequestStateCodec([b"k" * 32]).seal(envelope)
        _refused_state(
            await modern_call(
                gw,
                ALICE,
                "ask.confirm",
                {"action": "reboot"},
                requestState=forged,
                inputResponses=accept(requests),
            )
        )
        # The same envelope under the gateway's key (what a client could do with no integrity
        # protection) is accepted: the key is the control.
        resealed = seal._codec.seal(envelope)
        done = await modern_call(
            gw,
            ALICE,
            "ask.confirm",
            {"action": "reboot"},
            requestState=resealed,
            inputResponses=accept(requests),
        )
        assert text_of(done) == "confirmed reboot"


async def test_invalid_answer_reaches_the_server_as_an_error(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"ask": build()}) as gw:
        requests, state = interim(await modern_call(gw, ALICE, "ask.confirm", {"action": "x"}))
        bogus = {k: {"action": "launch-missiles"} for k in requests}
        done = await modern_call(
            gw, ALICE, "ask.confirm", {"action": "x"}, requestState=state, inputResponses=bogus
        )
        # The server's elicit failed with the gateway's error: the tool reports an error result.
        assert isinstance(done, JSONRPCResponse | JSONRPCError)
        if isinstance(done, JSONRPCResponse):
            assert done.result.get("isError") is True
        assert "confirmed" not in str(done)


async def test_injected_question_is_withheld(gateway_for: GatewayFactory) -> None:
    async with gateway_for({"ask": build()}) as gw:
        reply = await modern_call(gw, ALICE, "ask.poisoned_ask", {})
        # The client is never shown the question; the server hears the refusal (and fails).
        assert isinstance(reply, JSONRPCError), reply
        assert "possible prompt injection" in reply.error.message
        assert "Ignore all previous" not in str(reply)


async def test_legacy_client_that_can_be_asked_gets_the_request(gateway_for: GatewayFactory) -> None:
    asked: list[JSONRPCRequest] = []

    async def client(req: JSONRPCRequest) -> JSONRPCMessage:
        asked.append(req)
        return JSONRPCResponse(jsonrpc="2.0", id=req.id, result={"action": "accept", "content": {"ok": True}})

    async with gateway_for({"ask": build()}) as gw:
        reply = await gw.runtime.gateway.handle(
            request("tools/call", {"name": "ask.confirm", "arguments": {"action": "deploy"}}),
            Downstream(principal=ALICE, ask=client),
        )
        assert isinstance(reply, JSONRPCResponse)
        assert reply.result["content"][0]["text"] == "confirmed deploy"
        assert [r.method for r in asked] == ["elicitation/create"]


async def test_relaying_can_be_switched_off(gateway_for: GatewayFactory) -> None:
    guards = [
        {"name": "authentication"},
        {"name": "limits"},
        {"name": "authorization"},
        {"name": "notifications", "server_requests": []},
        {"name": "output"},
    ]
    async with gateway_for({"ask": build()}, guards=guards) as gw:
        reply = await modern_call(gw, ALICE, "ask.confirm", {"action": "reboot"})
        assert isinstance(reply, JSONRPCError), reply
        assert reply.error.data == {"guard": "notifications", "rules": ["BST-NOTIF-005"]}
