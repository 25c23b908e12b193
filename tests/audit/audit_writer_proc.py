"""A writer process for the crash and multi-writer tests (run as a script, never imported by tests).

``python audit_writer_proc.py URL NAME COUNT TASKS`` appends COUNT events from TASKS
concurrent tasks (every other one durable) and prints ``ACK <seq> <durable>`` after each
acknowledged append, flushed at once, so the parent knows exactly what was acknowledged.
"""

from __future__ import annotations

import asyncio
import sys

from mcp_bastion.audit import AuditEvent, AuditLog
from mcp_bastion.store.factory import open_store


async def main(url: str, name: str, count: int, tasks: int) -> None:
    store, close = open_store("audit", url)
    log = AuditLog(store)
    per_task = count // tasks

    async def worker(t: int) -> None:
        for i in range(per_task):
            durable = (i + t) % 2 == 0
            event = AuditEvent(
                principal=name,
                method="tools/call",
                tool="set_breaker",
                verdict="allow",
                arguments={"t": t, "i": i},
            )
            record = await log.append(event, durable=durable)
            sys.stdout.write(f"ACK {record.seq} {int(durable)}\n")
            sys.stdout.flush()

    await asyncio.gather(*(worker(t) for t in range(tasks)))
    await log.close()
    await close()
    sys.stdout.write("DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
