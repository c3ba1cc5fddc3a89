"""Console update latency: from a page view posted to the collector to its row in the stream.

    python bench/console_latency.py                 # 200 visitors, 20 s
    python bench/console_latency.py --visitors 500 --seconds 30

A real server (uvicorn in a thread, the whoson app over a temporary SQLite
store, as ``whoson serve`` runs it) gets 200 simulated visitors: each opens a
page, then the driver keeps posting, through ``POST /collect`` like the tag,
navigations of random visitors to new pages (``--senders`` threads, each
pausing ``--interval`` seconds between two), plus every visitor's heartbeat
every 30 s. An agent's ``/api/stream`` is read
on another thread; the latency of a navigation is the time from just before
its POST to the arrival of the ``upsert`` whose row shows the new page. The
figures (p50, p95, max, count) are printed and written to
``bench/out/console_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "src", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from whoson import Tracker  # noqa: E402
from whoson.cli.serve import build_site  # noqa: E402
from whoson.web.app import close  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
TOKEN = "bench-token"
OUT = ROOT / "bench" / "out" / "console_latency.json"


def serve(tracker: Tracker) -> tuple[str, uvicorn.Server, threading.Thread, Any]:
    """Start the app on 127.0.0.1 (a free port) in a thread; return its base URL."""
    app = build_site(tracker, prefix="/whoson", agents={"agent": TOKEN},
                     address_rate=1e5, address_burst=1e6, visitor_rate=100.0, visitor_burst=1000)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/whoson", server, thread, app


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run(visitors: int, seconds: float, interval: float, senders: int) -> dict[str, Any]:
    """Drive the server and measure; return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        tracker = Tracker.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        base, server, thread, app = serve(tracker)
        client = httpx.Client(timeout=10, headers={"content-type": "text/plain", "user-agent": UA})
        sent: dict[tuple[str, str], float] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        stop = threading.Event()

        def post(visitor: str, kind: str, url: str) -> None:
            event = {"id": uuid.uuid4().hex, "type": kind, "visitor": visitor, "url": url, "age_ms": 0}
            client.post(base + "/collect", content=json.dumps({"events": [event]}))

        def read() -> None:
            headers = {"authorization": f"Bearer {TOKEN}"}
            with httpx.stream("GET", base + "/api/stream", headers=headers, timeout=30) as response:
                name = ""
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name == "upsert":
                        data = json.loads(line[6:])
                        key = (data["visitor"], data["row"]["url"])
                        arrived = time.perf_counter()
                        with lock:
                            started = sent.pop(key, None)
                        if started is not None:
                            latencies.append(arrived - started)

        names = [f"bench-{i:04d}" for i in range(visitors)]
        for name in names:
            post(name, "page_view", "/")
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(1.0)
        beat_every = 30.0 / visitors
        deadline = time.perf_counter() + seconds
        counts = {"step": 0, "posted": 0}
        beats = {"next": time.perf_counter()}

        def drive(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                with lock:
                    counts["step"] += 1
                    url = f"/p/{counts['step']}"
                    visitor = rng.choice(names)
                    sent[(visitor, url)] = time.perf_counter()
                    beat = time.perf_counter() >= beats["next"]
                    if beat:
                        beats["next"] += beat_every
                    counts["posted"] += 2 if beat else 1
                post(visitor, "page_view", url)
                if beat:
                    post(rng.choice(names), "heartbeat", "/")
                time.sleep(interval)

        drivers = [threading.Thread(target=drive, args=(seed,)) for seed in range(senders)]
        for driver in drivers:
            driver.start()
        for driver in drivers:
            driver.join()
        step, posted = counts["step"], counts["posted"]
        time.sleep(2.0)
        stop.set()
        server.should_exit = True
        thread.join(10)
        close(app.state.whoson_app)
        tracker.close()
        client.close()
    if not latencies:
        raise SystemExit("no upsert matched a navigation: is the stream working?")
    return {
        "visitors": visitors,
        "seconds": seconds,
        "senders": senders,
        "navigations": step,
        "posts_per_second": round(posted / seconds, 1),
        "measured": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(statistics.mean(latencies) * 1000, 1),
    }


def main() -> None:
    """Parse the options, measure, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.1,
                        help="pause of each sender between two navigations (default 0.1 s)")
    parser.add_argument("--senders", type=int, default=4,
                        help="threads posting to the collector at once (default 4)")
    args = parser.parse_args()
    figures = run(args.visitors, args.seconds, args.interval, args.senders)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()
