"""Claim presses through the real engine from several processes: `python -m tests.bot.groups.engine_claims URL
ISO_TIME PROCS NAME...` starts PROCS processes (each its own engine, world and connections) that each press the
Claim button of the card in g:trip (as a client holding the card does, even after it changed) for every NAME, in
their own random order, all at once; one line a press: `press NAME <notice text>`."""

from __future__ import annotations

import multiprocessing
import random
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def worker(url: str, when: str, names: list[str], barrier: Any, results: Any) -> None:
    from bot.events import Event, Press
    from tests.bot.processes import build

    now = datetime.fromisoformat(when)
    world = build(url, lambda: now, Path(f"/tmp/finbot-claims-{multiprocessing.current_process().pid}"))
    found = world.find_button("g:trip", "Claim")  # the card as every client holds it, before anyone presses
    assert found is not None
    seq, button = found
    barrier.wait(timeout=120)
    for name in names:
        ev = Event(world.event_id(), world.chat(name, "g:trip"), world.person(name), now,
                   press=Press(f"press-{world.next_id('press_seq')}", button["data"], seq))
        shown = world.render(world.engine.handle(ev), presser=name)
        notice = next((i["text"] for i in shown if i.get("notice")), "")
        results.put(f"press {name} {notice}")
    world.db.dispose()


def main(argv: list[str]) -> int:
    url, when, procs, names = argv[0], argv[1], int(argv[2]), argv[3:]
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    ps = [ctx.Process(target=worker, args=(url, when, random.sample(names, len(names)), barrier, results))
          for _ in range(procs)]
    for p in ps:
        p.start()
    lines = [results.get(timeout=240) for _ in range(procs * len(names))]
    for p in ps:
        p.join(timeout=60)
    for line in lines:
        print(line)
    return 0 if all(p.exitcode == 0 for p in ps) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
