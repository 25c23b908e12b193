"""A hand-written, deliberately broken JSON-RPC stdio server: the fuzzer must catch each flaw.

- a line that is not valid UTF-8 kills the process (crash);
- ``params`` nested deeper than 500 blocks the loop forever (hang);
- an integer id above 2**53 is answered with id 0 (wrong id, malformed);
- method ``$/x`` gets a reply that is not JSON-RPC (malformed).
Everything else gets ``{"result": {}}``. Never deploy it.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _depth(value: object) -> int:
    depth = 0
    while isinstance(value, (dict, list)) and value:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        depth += 1
    return depth


def main() -> None:
    """Serve stdin/stdout line by line."""
    sys.setrecursionlimit(200_000)
    for raw in sys.stdin.buffer:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            os._exit(3)  # crash
        try:
            msg = json.loads(text)
        except ValueError:
            continue
        if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
            continue
        if _depth(msg.get("params")) > 500:
            while True:  # hang
                time.sleep(1)
        rid = msg["id"]
        if isinstance(rid, int) and not isinstance(rid, bool) and rid > 2**53:
            rid = 0
        reply: object = {"jsonrpc": "2.0", "id": rid, "result": {}}
        if msg["method"] == "$/x":
            reply = {"ok": True}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
