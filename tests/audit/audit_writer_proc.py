"""A writer process for the crash and multi-writer tests (run as a script, never imported by tests).

``python audit_writer_proc.py URL NAME COUNT TASKS [wait]`` appends COUNT events from
TASKS concurrent tasks (every other one durable) and prints ``ACK <seq> <durable>`` after
each acknowledged append, flushed at once, so the parent knows exactly what was
acknowledged. With ``wait`` it prints ``READY`` once the store is open and starts only
when a line arrives on stdin, so several writers can be started together.
"""

from __future__ import annotations

import asyncio
import sys

from mcp_bastion.audit import AuditEvent, AuditLog
from mcp_bastion.store.factory import open_store


async def main(url: str, name: str, count: int, tasks: int, wait: bool) -> None:
    store, close = open_store("audit", url)
    await store.head()  # connected
    log = AuditLog(store)
    if wait:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.readline)
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
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["wait"]))
