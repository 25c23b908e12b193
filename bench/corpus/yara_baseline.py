"""Baseline: ``cisco-ai-mcp-scanner``'s offline YARA analyzer on the detector corpus.

The scanner's pins conflict with this project's, so it lives in its own virtual environment
(``bench/results/.venv-cisco``), created with ``python -m venv`` and ``pip install
cisco-ai-mcp-scanner==4.8.7`` only when missing or at another version (the one network use:
the package registry). This module has two halves:

- in the bench process, :func:`ensure_venv` and :func:`run_yara` (stdlib only);
- in the scanner's environment, ``python yara_baseline.py --worker``: reads JSONL items on
  stdin and writes one JSONL verdict per item, applying ``mcpscanner``'s ``YaraAnalyzer``
  with its bundled rules exactly as its scanner does. A tool is matched twice, like
  ``Scanner._analyze_tool``: its description, then its ``mcp`` ``Tool`` JSON without the
  description (name, schema, annotations). An output is matched as plain text, like
  ``Scanner._analyze_resource`` does for ``text/plain`` resource contents (the scanner has
  no tool-output path; resource contents are the nearest it scans). Flagged means at least
  one finding, which is what makes the scanner report an item as unsafe.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["PACKAGE", "VENV", "YaraUnavailableError", "ensure_venv", "run_yara"]

PACKAGE = "cisco-ai-mcp-scanner"
VERSION = "4.8.7"
VENV = Path(__file__).resolve().parents[1] / "results" / ".venv-cisco"
_VERSION_PROBE = "import importlib.metadata as m; print(m.version('cisco-ai-mcp-scanner'))"


class YaraUnavailableError(RuntimeError):
    """The baseline could not be installed or run; the message says which step failed."""


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", _VERSION_PROBE], capture_output=True, text=True, check=False)
    return probe.stdout.strip() if probe.returncode == 0 else None


def _step(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise YaraUnavailableError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")


def ensure_venv(venv: Path = VENV) -> Path:
    """Python of the scanner's own environment, created and installed only when missing."""
    python = venv / "bin" / "python"
    if _installed_version(python) == VERSION:
        return python
    if not python.exists():
        _step([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    _step(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"{PACKAGE}=={VERSION}",
        ],
        "pip install",
    )
    found = _installed_version(python)
    if found != VERSION:
        raise YaraUnavailableError(f"{PACKAGE} {VERSION} not importable after install (found {found!r})")
    return python


def run_yara(python: Path, items: Iterable[dict[str, Any]]) -> list[tuple[bool, list[str]]]:
    """``(flagged, rule names)`` per item (``{"tool": {...}}`` or ``{"text": "..."}``), in order."""
    payload = "".join(json.dumps(item) + "\n" for item in items)
    done = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--worker"],
        input=payload,
        # mcpscanner imports LiteLLM, which would fetch a model price list at import time.
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise YaraUnavailableError(f"YARA worker failed (exit {done.returncode}):\n{tail}")
    out = []
    for line in done.stdout.splitlines():
        verdict = json.loads(line)
        out.append((bool(verdict["flagged"]), list(verdict["rules"])))
    return out


async def _worker() -> None:
    """Runs inside the scanner's environment: JSONL items on stdin, JSONL verdicts on stdout."""
    out, sys.stdout = sys.stdout, sys.stderr  # keep library chatter off the verdict stream
    # Imported by name: these packages exist only in the scanner's environment.
    analyzer = importlib.import_module("mcpscanner.core.analyzers.yara_analyzer").YaraAnalyzer()
    tool_model = importlib.import_module("mcp.types").Tool
    for line in sys.stdin:
        item = json.loads(line)
        findings: list[Any] = []
        if "tool" in item:
            tool = item["tool"]
            findings += await analyzer.analyze(tool.get("description") or "", {"content_type": "description"})
            try:
                data = json.loads(tool_model.model_validate(tool).model_dump_json(by_alias=True))
            except ValueError:  # not a valid mcp Tool (pydantic's error is a ValueError): raw JSON
                data = dict(tool)
            data.pop("description", None)
            findings += await analyzer.analyze(json.dumps(data), {"content_type": "parameters"})
        else:
            findings += await analyzer.analyze(item["text"], {"content_type": "resource_content"})
        rules = sorted({f.details["raw_response"]["rule"] for f in findings})
        out.write(json.dumps({"flagged": bool(findings), "rules": rules}) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    asyncio.run(_worker())
