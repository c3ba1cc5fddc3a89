"""Collector throughput: events per second accepted by ``POST /collect``, one worker and four.

    PYTHONPATH=src python bench/web_collector.py                # 1 and 4 workers, 8 s each
    PYTHONPATH=src python bench/web_collector.py --workers 1 --seconds 3

A worker is one server process (uvicorn + the whoson app, as ``whoson
serve`` runs it) over one shared SQLite file; several workers listen on
their own ports and the load generator spreads batches across them. The
generator runs in its own processes (asyncio + httpx, keep-alive), posting
batches of ``--batch`` page views from fresh visitors (so no visitor rate
limit applies; the address limit is lifted for the run). Only events the
collector answered as accepted count; the store is checked at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def serve(db: str, sock: socket.socket) -> None:
    """One worker: the whoson app on uvicorn over the shared store."""
    import uvicorn

    from whoson import Tracker
    from whoson.cli.serve import build_site

    tracker = Tracker.open(f"sqlite:///{db}")
    site = build_site(tracker, address_rate=1e6, address_burst=10**6)
    config = uvicorn.Config(site, log_level="error", lifespan="off", proxy_headers=False, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def load(urls: list[str], seconds: float, batch: int, concurrency: int, out: Any) -> None:
    """Post batches for ``seconds``; report (accepted events, batches, errors) on ``out``."""
    import httpx

    async def main() -> tuple[int, int, int, float]:
        accepted = batches = errors = 0
        begun = time.monotonic()
        deadline = begun + seconds
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # TCP_NODELAY: httpx writes headers and body separately; with Nagle's algorithm and the
        # server's delayed ACK every request would wait ~40 ms for nothing.
        transport = httpx.AsyncHTTPTransport(limits=limits, socket_options=[
            (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        async with httpx.AsyncClient(timeout=30, transport=transport, trust_env=False) as client:

            async def worker(n: int) -> None:
                nonlocal accepted, batches, errors
                url = urls[n % len(urls)] + "/whoson/collect"
                while time.monotonic() < deadline:
                    visitor = uuid.uuid4().hex
                    body = json.dumps({"visitor": visitor, "events": [
                        {"id": f"{visitor}-{i}", "type": "page_view", "url": f"/p/{i}", "title": "Bench",
                         "age_ms": 0} for i in range(batch)]})
                    reply = await client.post(url, content=body, headers={"content-type": "text/plain",
                                                                          "user-agent": UA})
                    if reply.status_code == 202:
                        accepted += reply.json()["accepted"]
                        batches += 1
                    else:
                        errors += 1

            await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return accepted, batches, errors, time.monotonic() - begun

    out.put(asyncio.run(main()))


def run(workers: int, seconds: float, batch: int, clients: int, concurrency: int) -> dict[str, Any]:
    """Start ``workers`` servers and ``clients`` load processes; return the measured rates."""
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db")
        from whoson import Tracker

        Tracker.open(f"sqlite:///{db}").close()  # create the store once, before the workers race
        servers, urls = [], []
        for _ in range(workers):
            # proto=IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (as uvicorn's own
            # sockets get); without it each response waits ~40 ms for a delayed ACK.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
            process = ctx.Process(target=serve, args=(db, sock), daemon=True)
            process.start()
            servers.append(process)
        _wait_up(urls)
        results = ctx.Queue()
        loaders = [ctx.Process(target=load, args=(urls, seconds, batch, concurrency, results)) for _ in range(clients)]
        for p in loaders:
            p.start()
        totals = [results.get(timeout=seconds + 60) for _ in loaders]
        elapsed = max(t[3] for t in totals)  # the load's own duration, not the processes' start-up
        for p in loaders:
            p.join()
        for p in servers:
            p.terminate()
            p.join(10)
        with Tracker.open(f"sqlite:///{db}") as tracker:
            stored = len(tracker.store)
    accepted = sum(t[0] for t in totals)
    return {"workers": workers, "seconds": round(elapsed, 1), "batch": batch, "accepted": accepted,
            "stored": stored, "batches": sum(t[1] for t in totals), "errors": sum(t[2] for t in totals),
            "events_per_s": round(accepted / elapsed)}


def _wait_up(urls: list[str]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/whoson/stats", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not start")
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--batch", type=int, default=20, help="events per batch (default 20)")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per client (default 16)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  batch: {args.batch} events  clients: {args.clients} x {args.concurrency}")
    print(f"{'workers':>7} {'accepted':>9} {'stored':>8} {'errors':>6} {'seconds':>7} {'events/s':>9}")
    for workers in args.workers:
        r = run(workers, args.seconds, args.batch, args.clients, args.concurrency)
        print(f"{r['workers']:>7} {r['accepted']:>9} {r['stored']:>8} {r['errors']:>6} {r['seconds']:>7} "
              f"{r['events_per_s']:>9}")


if __name__ == "__main__":
    main()
