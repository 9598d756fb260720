"""One engine process for the step-up concurrency tests (`python -m tests.bot.stepup_worker`).

It wires the engine as `finbot simulate` does (tests.bot.conftest.make_world), prints `ready`, waits
for the go file, then hands the engine ONE event: `text` typed by `user` in their private chat, and
prints each reply as a JSON line. Many of these at once answer the same step-up challenge."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bot.events import Chat, ChatKind, Event, Person
from tests.bot.conftest import make_world


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db_url")
    ap.add_argument("out")
    ap.add_argument("user")
    ap.add_argument("text")
    ap.add_argument("event_id")
    ap.add_argument("go_file")
    args = ap.parse_args()
    world = make_world(args.db_url, Path(args.out))  # the key file beside `out`, as the parent's world
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    go = Path(args.go_file)
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go")
        time.sleep(0.001)
    ev = Event(args.event_id, Chat("local", f"dm:{args.user}", ChatKind.private),
               Person("local", args.user, handle=args.user), world.now(), text=args.text, message_id=args.event_id)
    for r in world.engine.handle(ev):
        sys.stdout.write(json.dumps({"kind": r.kind.value, "chat": r.chat_id, "text": r.text}) + "\n")
    sys.stdout.flush()
    world.db.dispose()


if __name__ == "__main__":
    main()
