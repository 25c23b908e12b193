"""Detector evaluation: TPR/FPR per category on a tuning and a held-out split, and MB/s per core.

``python -m bench detectors`` (or ``make bench``). Corpora are built at run time:

- outputs: AgentDojo's injection tasks rendered into its suites' tool outputs beside the
  same outputs without them (:mod:`bench.corpus.agentdojo_outputs`, needs the ``bench``
  extra), this project's extra templates (:mod:`bench.corpus.attacks`) and hard negatives
  (:mod:`bench.corpus.hard_negatives`); split by injection task / record key;
- tools: benign definitions modelled on public MCP servers and poisoned variants per
  attack family (:mod:`bench.corpus.benign_tools`, :mod:`bench.corpus.poisoned_tools`);
  benign split by name, poisoned split by phrasing (odd phrasings are held out);
- secrets: generated tokens of each provider format and look-alike negatives.

Baseline (rows with ``detector: cisco-yara``): ``cisco-ai-mcp-scanner``'s offline YARA
analyzer on the same items, installed into ``bench/results/.venv-cisco`` when missing
(:mod:`bench.corpus.yara_baseline`); ``--skip-yara`` leaves it out.

Throughput is CPU time (``time.process_time``) of one process, i.e. MB/s per core.
``scan_output_*`` is the injection detector alone; ``output_detectors_*`` is what the
gateway's output guard runs on each text by default: ``scan_output`` plus ``redact``
(secrets; PII redaction is off by default).
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from bench._report import report
from bench.corpus.agentdojo_outputs import Sample, agentdojo_available, build_outputs, split_of
from bench.corpus.attacks import FILL, encode_for, extra_templates
from bench.corpus.benign_tools import benign_tools
from bench.corpus.hard_negatives import hard_negatives
from bench.corpus.poisoned_tools import FAMILIES
from bench.corpus.yara_baseline import PACKAGE, VENV, VERSION, YaraUnavailableError, ensure_venv, run_yara
from mcp_bastion.detectors import (
    FLAG_THRESHOLD,
    redact,
    risk_score,
    scan_output,
    scan_secrets,
    scan_tool,
)

__all__ = ["main"]

ToolSample = tuple[str, dict[str, Any], bool, str, str]  # server, tool, label, group, split


def output_corpus() -> list[Sample]:
    """Labelled tool outputs (AgentDojo-based when installed) plus hard negatives."""
    samples: list[Sample] = []
    if agentdojo_available():
        samples += build_outputs(extra_templates(), FILL, encode_for)
    for key, text in hard_negatives():
        samples.append(Sample(key, text, False, "hard_negative", split_of(key)))
    return samples


def tool_corpus() -> list[ToolSample]:
    """Benign tools and their poisoned variants."""
    tools = benign_tools()
    out: list[ToolSample] = [(s, t, False, "benign_tools", split_of(t["name"])) for s, t in tools]
    for family, variants in FAMILIES.items():
        for j, variant in enumerate(variants):
            split = "tune" if j % 2 == 0 else "heldout"
            for i, (server, tool) in enumerate(tools):
                if (i + j) % 4 == 0:
                    out.append((server, variant(tool), True, family, split))
    return out


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def secret_corpus() -> list[tuple[str, bool, str, str]]:
    """``(text, label, group, split)``: generated secrets in context, and look-alike negatives."""
    rng = random.Random(5)
    an = string.ascii_letters + string.digits
    up = string.ascii_uppercase + string.digits
    makers: dict[str, Callable[[], str]] = {
        "aws_access_key": lambda: "AKIA" + _rand(rng, up, 16),
        "github_token": lambda: "ghp_" + _rand(rng, an, 36),
        "gitlab_token": lambda: "glpat-" + _rand(rng, an, 20),
        "slack_token": lambda: "xoxb-" + _rand(rng, string.digits, 12) + "-" + _rand(rng, an, 24),
        "stripe_key": lambda: "sk_live_" + _rand(rng, an, 24),
        "anthropic_key": lambda: "sk-ant-api03-" + _rand(rng, an + "-_", 48),
        "openai_key": lambda: "sk-proj-" + _rand(rng, an, 40),
        "google_api_key": lambda: "AIza" + _rand(rng, an + "-_", 35),
        "jwt": lambda: (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI" + _rand(rng, an, 20) + "." + _rand(rng, an + "-_", 43)
        ),
        "private_key": lambda: (
            "-----BEGIN OPENSSH PRIVATE KEY-----\n"
            + "\n".join(_rand(rng, an + "+/", 70) for _ in range(5))
            + "\n-----END OPENSSH PRIVATE KEY-----"
        ),
        "url_password": lambda: f"postgres://app:{_rand(rng, an, 14)}@db.internal:5432/prod",
        "assignment": lambda: f'api_key = "{_rand(rng, an, 32)}"',
    }
    contexts = [
        "Config loaded: {s}",
        "export TOKEN_X={s}\n",
        '{{"value": "{s}"}}',
        "debug output ... {s} ... done",
    ]
    out: list[tuple[str, bool, str, str]] = [
        (contexts[i % len(contexts)].format(s=make()), True, f"secret:{kind}", "tune" if i % 2 else "heldout")
        for kind, make in makers.items()
        for i in range(40)
    ]
    negatives: list[Callable[[], str]] = [
        lambda: "sha256:" + _rand(rng, "0123456789abcdef", 64),
        lambda: "request id " + "-".join(_rand(rng, "0123456789abcdef", n) for n in (8, 4, 4, 4, 12)),
        lambda: "commit " + _rand(rng, "0123456789abcdef", 40),
        lambda: "token_count: " + str(rng.randint(10, 99999)),
        lambda: "password = get_password(user)",
        lambda: "Set API_KEY=${API_KEY} in your shell; see https://docs.example.com/auth",
        lambda: "data:image/png;base64," + _rand(rng, an + "+/", 120),
        lambda: "postgres://app:${DB_PASSWORD}@db:5432/prod",
        lambda: "The secret to good bread is patience: let it rest for 12 hours.",
        lambda: "sk-learn model saved to /models/sk-learn-" + _rand(rng, string.ascii_lowercase, 8),
    ]
    out += [
        (negatives[i % len(negatives)](), False, "secret_negatives", "tune" if i % 2 else "heldout")
        for i in range(400)
    ]
    return out


def _rates(items: Iterable[tuple[bool, bool, str, str]]) -> list[dict[str, Any]]:
    """Rows of TPR (positive groups) or FPR (negative groups) per (split, group), plus totals."""
    counts: dict[tuple[str, str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for label, flagged, group, split in items:
        for g in (group, "ALL"):
            cell = counts[(split, g, label)]
            cell[0] += int(flagged)
            cell[1] += 1
    rows = []
    for (split, group, label), (hit, n) in sorted(counts.items()):
        rows.append(
            {
                "split": split,
                "category": group,
                "label": "attack" if label else "benign",
                "n": n,
                "tpr" if label else "fpr": round(hit / n, 4),
            }
        )
    return rows


def _throughput(func: Callable[[str], object], texts: list[str], *, min_bytes: int = 4_000_000) -> float:
    """MB/s of CPU time for ``func`` over ``texts`` (repeated until ``min_bytes`` were scanned)."""
    size = sum(len(t.encode()) for t in texts)
    rounds = max(1, min_bytes // max(1, size))
    start = time.process_time()
    for _ in range(rounds):
        for text in texts:
            func(text)
    elapsed = time.process_time() - start
    return round(size * rounds / 1e6 / max(elapsed, 1e-9), 2)


def _summary(rows: list[dict[str, Any]], detector: str) -> dict[str, dict[str, float | None]]:
    """ALL-category TPR and FPR per ``kind/split`` for one detector."""

    def pick(kind: str, split: str, key: str) -> float | None:
        return next(
            (
                r[key]
                for r in rows
                if r["detector"] == detector
                and r["kind"] == kind
                and r["split"] == split
                and r["category"] == "ALL"
                and key in r
            ),
            None,
        )

    return {
        f"{kind}/{split}": {"tpr": pick(kind, split, "tpr"), "fpr": pick(kind, split, "fpr")}
        for kind in ("output", "tool", "secret")
        for split in ("tune", "heldout")
    }


def _yara_rows(
    outputs: list[Sample], tools: list[ToolSample], secrets: list[tuple[str, bool, str, str]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The cisco YARA baseline on the same items: rows, and meta (or the step that failed)."""
    try:
        python = ensure_venv()
        start = time.perf_counter()
        out_v = run_yara(python, ({"text": s.text} for s in outputs))
        tool_v = run_yara(python, ({"tool": tool} for _, tool, _, _, _ in tools))
        secret_v = run_yara(python, ({"text": text} for text, _, _, _ in secrets))
        seconds = time.perf_counter() - start
    except YaraUnavailableError as exc:
        return [], {"status": "failed", "error": str(exc)}
    rows = [
        {"detector": "cisco-yara", "kind": "output", **r}
        for r in _rates((s.label, v[0], s.group, s.split) for s, v in zip(outputs, out_v, strict=True))
    ]
    rows += [
        {"detector": "cisco-yara", "kind": "tool", **r}
        for r in _rates((t[2], v[0], t[3], t[4]) for t, v in zip(tools, tool_v, strict=True))
    ]
    rows += [
        {"detector": "cisco-yara", "kind": "secret", **r}
        for r in _rates((x[1], v[0], x[2], x[3]) for x, v in zip(secrets, secret_v, strict=True))
    ]
    hits: dict[str, int] = defaultdict(int)
    for _, rules in out_v + tool_v + secret_v:
        for rule in rules:
            hits[rule] += 1
    meta = {
        "status": "ok",
        "package": f"{PACKAGE}=={VERSION}",
        "venv": str(VENV),
        "wall_seconds_all_items": round(seconds, 1),
        "rule_hits": dict(sorted(hits.items())),
    }
    return rows, meta


def main(argv: list[str] | None = None) -> int:
    """Build the corpora, evaluate, report rows (TPR/FPR per category and split) and throughput."""
    parser = argparse.ArgumentParser(prog="bench detectors", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller throughput runs")
    parser.add_argument(
        "--skip-yara",
        action="store_true",
        help="leave out the cisco-ai-mcp-scanner YARA baseline (and its install)",
    )
    args = parser.parse_args(argv or [])

    outputs = output_corpus()
    out_rows = _rates(
        (s.label, risk_score(scan_output(s.text)) >= FLAG_THRESHOLD, s.group, s.split) for s in outputs
    )
    tools = tool_corpus()
    tool_rows = _rates(
        (label, risk_score(scan_tool(tool, server=server)) >= FLAG_THRESHOLD, group, split)
        for server, tool, label, group, split in tools
    )
    secrets = secret_corpus()
    secret_rows = _rates(
        (label, bool(scan_secrets(text)), group, split) for text, label, group, split in secrets
    )
    rows = [{"detector": "bastion", "kind": "output", **r} for r in out_rows]
    rows += [{"detector": "bastion", "kind": "tool", **r} for r in tool_rows]
    rows += [{"detector": "bastion", "kind": "secret", **r} for r in secret_rows]
    yara_meta: dict[str, Any] = {"status": "skipped (--skip-yara)"}
    if not args.skip_yara:
        yara_rows, yara_meta = _yara_rows(outputs, tools, secrets)
        rows += yara_rows

    budget = 1_000_000 if args.quick else 4_000_000
    benign_texts = [s.text for s in outputs if not s.label]
    attack_texts = [s.text for s in outputs if s.label][::7]
    joined = "\n---\n".join(benign_texts)
    big = (joined * (1 + 1_000_000 // max(1, len(joined))))[:1_000_000]
    chunks_4k = [joined[i : i + 4096] for i in range(0, len(joined), 4096)]
    chunks_64k = [joined[i : i + 65536] for i in range(0, len(joined), 65536)]
    pathological = {
        "repeated_a_1MB": "a" * 1_000_000,
        "ignore_spam_1MB": ("ignore previous " * 70_000)[:1_000_000],
        "base64_blob_1MB": ("QUJD" * 250_000),
        "digits_1MB": ("1234 " * 200_000),
        "angle_brackets_1MB": ("<|" * 500_000),
    }

    def output_detectors(text: str) -> object:
        return scan_output(text), redact(text)

    throughput = {
        "output_detectors_benign_records": _throughput(output_detectors, benign_texts, min_bytes=budget),
        "output_detectors_benign_4KiB": _throughput(output_detectors, chunks_4k, min_bytes=budget),
        "output_detectors_benign_64KiB": _throughput(output_detectors, chunks_64k, min_bytes=budget),
        "output_detectors_1MB_document": _throughput(output_detectors, [big], min_bytes=budget),
        "scan_output_benign_records": _throughput(scan_output, benign_texts, min_bytes=budget),
        "scan_output_benign_4KiB": _throughput(scan_output, chunks_4k, min_bytes=budget),
        "scan_output_benign_64KiB": _throughput(scan_output, chunks_64k, min_bytes=budget),
        "scan_output_attacks": _throughput(scan_output, attack_texts, min_bytes=budget),
        "scan_output_1MB_document": _throughput(scan_output, [big], min_bytes=budget),
        "scan_secrets_benign_4KiB": _throughput(scan_secrets, chunks_4k, min_bytes=budget),
        "redact_benign_4KiB": _throughput(redact, chunks_4k, min_bytes=budget),
        "scan_tool_benign": _throughput(
            lambda text: scan_tool({"name": "t", "description": text}),
            [tool["description"] for _, tool, label, _, _ in tools if not label],
        ),
        **{f"scan_output_{k}": _throughput(scan_output, [v], min_bytes=1) for k, v in pathological.items()},
    }
    meta = {
        "agentdojo": agentdojo_available(),
        "flag_threshold": FLAG_THRESHOLD,
        "mean_benign_output_bytes": round(sum(map(len, benign_texts)) / max(1, len(benign_texts))),
        "corpus": {
            "outputs": len(outputs),
            "output_attacks": sum(s.label for s in outputs),
            "tools": len(tools),
            "tool_attacks": sum(t[2] for t in tools),
            "secrets": len(secrets),
        },
        "throughput_mb_per_s_per_core": throughput,
        "summary": _summary(rows, "bastion"),
        "cisco_yara": {
            **yara_meta,
            "summary": _summary(rows, "cisco-yara") if yara_meta["status"] == "ok" else None,
        },
    }
    report("detectors", rows, meta=meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
