"""``bastion audit keygen|verify|tail|search|export|repair|rotate|checkpoint``.

The log is found from ``--db URL`` (``sqlite:///...``, ``postgresql://...``), else from
``stores.audit`` of ``--config FILE``, else ``./bastion.yaml`` when it exists, else the
default state directory's ``bastion.db``. The same file (``--config``, else
``./bastion.yaml`` when ``--db`` is not given) supplies the writers' checkpoint cadence:
``verify`` checks it and ``repair``/``rotate``/``checkpoint`` write with it. Exit status:
0 success (verify: the log verifies), 1 the log does not verify / cannot be repaired, 2 bad
option, unreadable configuration or unreachable store.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import typer
from rich.console import Console

from mcp_bastion.audit.export import RecordFilter, iter_records, read_jsonl, to_cef, to_jsonl
from mcp_bastion.audit.log import AuditLog
from mcp_bastion.audit.record import AuditRecord
from mcp_bastion.audit.repair import repair, rotate
from mcp_bastion.audit.signing import CheckpointSigner, CheckpointVerifier, generate_key
from mcp_bastion.audit.verify import ChainChecker, VerifyReport, load_witness, verify_log
from mcp_bastion.config import AuditLogConfig, BastionConfig, load_config
from mcp_bastion.config.defaults import DEFAULT_STATE_DIR
from mcp_bastion.errors import AuditIntegrityError, BastionError, ConfigError
from mcp_bastion.store.factory import open_store
from mcp_bastion.store.interface import AuditStore

__all__ = ["app", "audit_url"]

app = typer.Typer(help="Verify, search and export the tamper-evident audit log.", no_args_is_help=True)
T = TypeVar("T")
EXIT_BAD_LOG = 1
EXIT_USAGE = 2

DbOpt = Annotated[str | None, typer.Option("--db", help="Audit store URL (overrides stores.audit).")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="bastion.yaml: the audit store and checkpoint cadence.")
]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="Ed25519 private key signing checkpoints.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="jsonl, cef or text.")]


def audit_url(config: Path | None, db: str | None) -> str:
    """Where the log is: ``--db``, ``--config``'s ``stores.audit``, ``./bastion.yaml``, else the default."""
    return _url(_settings(config, db), db)


def _url(settings: BastionConfig | None, db: str | None) -> str:
    if db is not None:
        return db
    if settings is not None:
        return settings.stores.audit
    return f"sqlite:///{DEFAULT_STATE_DIR / 'bastion.db'}"


def _settings(config: Path | None, db: str | None) -> BastionConfig | None:
    """The configuration a command reads: ``--config``, else ``./bastion.yaml`` unless ``--db`` is given."""
    if config is None and db is None and Path("bastion.yaml").is_file():
        config = Path("bastion.yaml")
    if config is None:
        return None
    try:
        return load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc  # the operator's own file: the field and reason help


def _writer_cadence(settings: BastionConfig | None) -> int:
    """``checkpoint_every`` for records this CLI appends: the gateway's, so verify's cadence holds."""
    return (settings.audit_log if settings else AuditLogConfig()).checkpoint_every


def _verify_cadence(option: int | None, settings: BastionConfig | None) -> int | None:
    """The cadence verify checks: ``--checkpoint-every`` (0 = none), else the config's writers'."""
    if option is not None:
        if option == 1 or option < 0:
            raise _fail("--checkpoint-every must be 0 (no cadence check) or at least 2")
        return option or None
    if settings is None:
        return None
    sealing = settings.audit_log
    if sealing.signing_key_file is None:
        # Writers without a key write no checkpoints at all: there is no cadence to check.
        if "checkpoint_every" in sealing.model_fields_set:
            _note("audit_log.checkpoint_every not checked: the configuration has no signing_key_file")
        return None
    return sealing.checkpoint_every


def _note(message: str) -> None:
    Console(stderr=True, soft_wrap=True).print(message, highlight=False)


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _run(url: str, action: Callable[[AuditStore], Awaitable[T]]) -> T:
    async def main() -> T:
        store, close = open_store("audit", url)
        try:
            return await action(store)
        finally:
            await close()

    try:
        return anyio.run(main)
    except AuditIntegrityError as exc:
        raise _fail(str(exc), EXIT_BAD_LOG) from exc
    except BastionError as exc:
        raise _fail(exc.public_message) from exc


def _render(record: AuditRecord, fmt: str) -> str:
    if fmt == "jsonl":
        return to_jsonl(record)
    if fmt == "cef":
        return to_cef(record)
    d = record.data
    what = d.get("tool") or d.get("resource") or ""
    if record.kind != "event":
        return f"{record.seq:>8} {d.get('time', '')} {record.kind}\n"
    return (
        f"{record.seq:>8} {d.get('time', '')} {d.get('principal')} {d.get('method')} {what} "
        f"{d.get('verdict')}{' (' + str(d.get('reason')) + ')' if d.get('reason') else ''}\n"
    )


def _check_format(fmt: str) -> None:
    if fmt not in {"jsonl", "cef", "text"}:
        raise _fail("--format must be jsonl, cef or text")


@app.command()
def keygen(out: Annotated[Path, typer.Option("--out", help="Private key file to create (0600).")]) -> None:
    """Create an Ed25519 key pair for signing checkpoints; print the public key's path."""
    try:
        pub = generate_key(out)
    except BastionError as exc:
        raise _fail(exc.public_message) from exc
    typer.echo(str(pub))


@app.command()
def verify(
    *,
    db: DbOpt = None,
    config: ConfigOpt = None,
    pubkey: Annotated[Path | None, typer.Option("--pubkey", help="Public key checking checkpoints.")] = None,
    witness: Annotated[Path | None, typer.Option("--witness", help="Witness file of checkpoints.")] = None,
    jsonl: Annotated[
        list[Path] | None, typer.Option("--jsonl", help="Archive segment(s), in order, verified before --db.")
    ] = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Parse and check every field of every record.")
    ] = False,
    checkpoint_every: Annotated[
        int | None,
        typer.Option(
            "--checkpoint-every",
            metavar="N",
            help=(
                "The writers' checkpoint cadence: every multiple of N must be a checkpoint, so a "
                "rewrite that turns checkpoints into ordinary records is caught. Default: "
                "audit_log.checkpoint_every of the configuration (--config, else ./bastion.yaml "
                "without --db) when it sets a signing_key_file; this option wins; 0 = no check."
            ),
        ),
    ] = None,
) -> None:
    """Verify the hash chain, head, checkpoints; name the first bad record (exit 1).

    A known checkpoint cadence also catches checkpoints rewritten into ordinary records.
    """
    settings = _settings(config, db)
    cadence = _verify_cadence(checkpoint_every, settings)
    try:
        verifier = CheckpointVerifier.from_file(pubkey) if pubkey else None
        witnessed = load_witness(witness) if witness else None
    except BastionError as exc:
        raise _fail(exc.public_message) from exc
    checker = ChainChecker(verifier, witnessed, deep=deep, checkpoint_every=cadence)
    if cadence:
        source = "--checkpoint-every" if checkpoint_every else "audit_log.checkpoint_every"
        _note(f"checking checkpoint cadence: every {cadence} records ({source})")
    for path in jsonl or []:
        try:
            with path.open("rb") as fh:
                for batch in read_jsonl(fh):
                    checker.feed(batch)
        except OSError as exc:
            raise _fail(f"cannot read {path.name}") from exc
    if jsonl and db is None and config is None:
        report = checker.finish(None)
    else:

        async def check(store: AuditStore) -> VerifyReport:
            return await verify_log(store, checker=checker)

        report = _run(_url(settings, db), check)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_BAD_LOG)


def _print_report(report: VerifyReport) -> None:
    console = Console(stderr=True, highlight=False)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    span = f"records {report.first_seq}..{report.last_seq}" if report.records else "no records"
    summary = (
        f"{report.records} records ({span}), {report.checkpoints} checkpoints, "
        f"{report.signatures_checked} signatures checked"
    )
    if report.problem is None:
        typer.echo(f"OK: {summary}; head {report.last_hash}")
        return
    p = report.problem
    typer.echo(f"FAIL: record {p.seq} {p.kind}: {p.detail}")
    typer.echo(f"verified before it: {summary}")
    if p.kind == "torn":
        typer.echo("the tail is torn (an incomplete write); `bastion audit repair` cuts it")


@app.command()
def tail(
    *,
    db: DbOpt = None,
    config: ConfigOpt = None,
    lines: Annotated[int, typer.Option("-n", "--lines", help="How many records.")] = 20,
    follow: Annotated[bool, typer.Option("--follow", help="Keep printing new records.")] = False,
    fmt: FormatOpt = "text",
    interval: Annotated[float, typer.Option("--interval", help="Poll interval with --follow (s).")] = 0.5,
) -> None:
    """Print the last records (and, with ``--follow``, new ones as they arrive)."""
    _check_format(fmt)

    async def action(store: AuditStore) -> None:
        head_seq, _ = await store.head()
        last = max(0, head_seq - lines)
        while True:
            async for record in iter_records(store, after_seq=last):
                sys.stdout.write(_render(record, fmt))
                last = record.seq
            sys.stdout.flush()
            if not follow:
                return
            await anyio.sleep(interval)

    _run(audit_url(config, db), action)


def _filter(
    *, principal: str | None, tool: str | None, verdict: str | None, since: str | None, until: str | None
) -> RecordFilter:
    try:
        flt = RecordFilter(principal=principal, tool=tool, verdict=verdict, since=since, until=until)
        flt.matches({"time": ""})  # parses since/until now, not halfway through the log
    except ValueError as exc:
        raise _fail("--since/--until must be ISO 8601 times") from exc
    return flt


PrincipalOpt = Annotated[str | None, typer.Option("--principal", help="Only this principal.")]
ToolOpt = Annotated[str | None, typer.Option("--tool", help="Only this tool.")]
VerdictOpt = Annotated[str | None, typer.Option("--verdict", help="allow, deny, modify or ask.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this time (ISO 8601, UTC if naive).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Before this time.")]


@app.command()
def search(
    *,
    db: DbOpt = None,
    config: ConfigOpt = None,
    principal: PrincipalOpt = None,
    tool: ToolOpt = None,
    verdict: VerdictOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Print the records matching every given criterion."""
    _check_format(fmt)
    flt = _filter(principal=principal, tool=tool, verdict=verdict, since=since, until=until)

    async def action(store: AuditStore) -> None:
        async for record in iter_records(store, flt):
            sys.stdout.write(_render(record, fmt))

    _run(audit_url(config, db), action)


@app.command()
def export(
    *,
    db: DbOpt = None,
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or cef.")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default stdout).")] = None,
    principal: PrincipalOpt = None,
    tool: ToolOpt = None,
    verdict: VerdictOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Export records as JSONL (verifiable with ``verify --jsonl`` when unfiltered) or CEF."""
    if fmt not in {"jsonl", "cef"}:
        raise _fail("--format must be jsonl or cef")
    flt = _filter(principal=principal, tool=tool, verdict=verdict, since=since, until=until)
    sink = out.open("w", encoding="utf-8") if out else sys.stdout

    async def action(store: AuditStore) -> int:
        count = 0
        async for record in iter_records(store, flt):
            sink.write(_render(record, fmt))
            count += 1
        return count

    try:
        count = _run(audit_url(config, db), action)
    finally:
        if out:
            sink.close()
    Console(stderr=True).print(f"exported {count} records", highlight=False)


def _log(store: AuditStore, key: Path | None, every: int) -> AuditLog:
    signer = CheckpointSigner.from_file(key) if key else None
    return AuditLog(store, signer=signer, checkpoint_every=every)


@app.command(name="repair")
def repair_cmd(db: DbOpt = None, config: ConfigOpt = None, key: KeyOpt = None) -> None:
    """Cut a torn tail back to the last good record and log the repair (refuses tampering)."""

    settings = _settings(config, db)

    async def action(store: AuditStore) -> str:
        async with _log(store, key, _writer_cadence(settings)) as log:
            result = await repair(store, log)
        if result is None:
            return "nothing to repair: the log verifies"
        return (
            f"removed {result.removed} torn record(s) after {result.kept_seq}; "
            f"repair record {result.repair_seq}"
        )

    typer.echo(_run(_url(settings, db), action))


@app.command(name="rotate")
def rotate_cmd(
    archive: Annotated[Path, typer.Option("--archive", help="Directory for JSONL segments.")],
    db: DbOpt = None,
    config: ConfigOpt = None,
    key: KeyOpt = None,
) -> None:
    """Move records before the newest checkpoint into a JSONL segment, prune them from the store."""

    settings = _settings(config, db)

    async def action(store: AuditStore) -> str:
        async with _log(store, key, _writer_cadence(settings)) as log:
            result = await rotate(store, log, archive)
        if result is None:
            return "nothing to rotate: no checkpoint after the first record"
        return (
            f"archived {result.archived} records to {result.archive.name}; log starts at {result.starts_at}"
        )

    typer.echo(_run(_url(settings, db), action))


@app.command()
def checkpoint(
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key (bastion audit keygen).")],
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Append a signed checkpoint now."""

    settings = _settings(config, db)

    async def action(store: AuditStore) -> str:
        async with _log(store, key, _writer_cadence(settings)) as log:
            record = await log.checkpoint()
        return f"checkpoint {record.seq} signs record {record.seq - 1}"

    typer.echo(_run(_url(settings, db), action))
