"""Report writers: the JSON schema, SARIF 2.1.0 structure, HTML escaping."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from mcp_bastion.detectors import Severity
from mcp_bastion.scanner.model import ScanFinding, ScanReport, ServerResult, Surface
from mcp_bastion.scanner.report import to_html, to_json, to_sarif

# The official SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) is not shipped by any
# installed package and there is no network, so this is the subset of it that applies to
# what we emit: every "required" list and every enum on the path sarifLog -> run -> tool ->
# driver -> reportingDescriptor, and result -> message / location -> logicalLocation,
# copied from the official schema's definitions.
SARIF_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": "array", "items": {"$ref": "#/definitions/run"}},
    },
    "definitions": {
        "message": {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}]},
        "multiformatMessageString": {"type": "object", "required": ["text"]},
        "run": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {
                        "driver": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "rules": {
                                    "type": "array",
                                    "items": {"$ref": "#/definitions/rule"},
                                    "uniqueItems": True,
                                },
                            },
                        }
                    },
                },
                "results": {"type": "array", "items": {"$ref": "#/definitions/result"}},
            },
        },
        "rule": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "shortDescription": {"$ref": "#/definitions/multiformatMessageString"},
                "fullDescription": {"$ref": "#/definitions/multiformatMessageString"},
                "defaultConfiguration": {
                    "type": "object",
                    "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                },
            },
        },
        "result": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "level": {"enum": ["none", "note", "warning", "error"]},
                "message": {"$ref": "#/definitions/message"},
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "logicalLocations": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "fullyQualifiedName": {"type": "string"},
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    },
}


def report() -> ScanReport:
    surface = Surface(instructions=None, tools=({"name": "t"},))
    findings = (
        ScanFinding(
            "BST-SCAN-401", Severity.CRITICAL, "seed", "tool:insert_record.name", "SQL injection", "canary ab"
        ),
        ScanFinding(
            "BST-TP-001", Severity.HIGH, "evil", "tool:x.description", "<script>alert(1)</script>", "<b>"
        ),
        ScanFinding("BST-SCAN-203", Severity.LOW, "seed", "tool:t.q", "no maxLength"),
    )
    return ScanReport(
        (ServerResult("seed", "stdio:python seed.py", surface), ServerResult("evil", "x", None, "down")),
        findings,
    )


def test_json_schema_is_stable() -> None:
    doc = json.loads(to_json(report()))
    assert set(doc) == {"version", "servers", "findings"}
    assert doc["version"] == 1
    assert set(doc["findings"][0]) == {"rule_id", "severity", "server", "target", "message", "evidence"}
    assert doc["findings"][0]["severity"] == "critical"
    assert doc["servers"][0]["tools"] == ["t"]
    assert doc["servers"][1] == {
        "name": "evil",
        "target": "x",
        "reachable": False,
        "error": "down",
        "active": False,
    }


def test_sarif_validates_against_the_official_structure() -> None:
    doc = json.loads(to_sarif(report()))
    jsonschema.validate(doc, SARIF_SUBSET)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
    assert [r["level"] for r in run["results"]] == ["error", "error", "note"]


def test_sarif_subset_rejects_broken_logs() -> None:
    doc = json.loads(to_sarif(report()))
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SARIF_SUBSET)


def test_html_is_self_contained_and_escaped() -> None:
    page = to_html(report())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "src=" not in page
    assert "href=" not in page
    assert "1 critical, 1 high, 1 low" in page
