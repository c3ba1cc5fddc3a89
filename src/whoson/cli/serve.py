"""``whoson serve SOURCE``: the web application on a real server over a store.

The tag and the collector at ``--prefix`` (default ``/whoson``), the agents'
console beside them, and with ``--demo-site`` a small shop at ``/`` that
carries the tag. Rules (``--rules FILE``) are ticked every second. Ctrl-C or
SIGTERM stops the server cleanly: the collector's queue is stored first.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import secrets
import signal
import sys
from collections.abc import Iterator
from typing import Any

from whoson.cli.common import EXIT_OK, UsageError, is_store_url
from whoson.core.errors import ConfigError
from whoson.tracker import Tracker

__all__ = ["add_parser", "build_site", "run"]

_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="run the tag, collector and agents' console over a store (extra [web])",
        description="Serve the tracking tag, the collector and the agents' console over a store; "
        "--demo-site adds a small shop at / that carries the tag.",
    )
    parser.add_argument("source", metavar="SOURCE", help="store URL: sqlite:///file.db, postgresql://...")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    parser.add_argument("--prefix", default="/whoson", help="path the app is mounted at (default /whoson)")
    parser.add_argument("--agent", action="append", default=[], metavar="NAME:TOKEN",
                        help="an agent and their bearer token (repeatable; TOKEN may be empty: one is made up)")
    parser.add_argument("--rules", metavar="FILE", help="engagement rules (TOML or JSON), ticked every second")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="another origin allowed to post events (repeatable), e.g. https://shop.example")
    parser.add_argument("--demo-site", action="store_true", help="also serve a demo shop at / carrying the tag")
    parser.set_defaults(run=run)


def _agents(specs: list[str]) -> dict[str, str]:
    agents: dict[str, str] = {}
    for spec in specs:
        name, sep, token = spec.partition(":")
        if not name or not sep:
            raise UsageError(f"--agent {spec!r} must look like NAME:TOKEN")
        agents[name] = token or secrets.token_urlsafe(18)
    return agents


def build_site(tracker: Tracker, *, prefix: str = "/whoson", demo_site: bool = False, **settings: Any) -> Any:
    """The served application: whoson at ``prefix``, the demo shop at ``/`` when asked."""
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import BaseRoute, Mount, Route

    from whoson.web import asgi_app
    from whoson.web.demo_site import demo_app

    whoson_app = asgi_app(tracker, **settings)
    routes: list[BaseRoute] = [Mount(prefix, whoson_app)]
    if demo_site:
        routes.append(Mount("/", demo_app(tracker, prefix=prefix)))
    else:
        async def home(request: Any) -> Any:
            return RedirectResponse(prefix + "/live")

        routes.append(Route("/", home))
    site = Starlette(routes=routes)
    site.state.whoson = whoson_app.state.whoson
    site.state.whoson_app = whoson_app
    return site


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    try:
        import uvicorn
    except ImportError:
        raise UsageError("whoson serve needs the web extra: pip install 'whoson[web]'") from None
    if not is_store_url(args.source) or args.source.startswith("memory:"):
        raise UsageError(f"SOURCE {args.source!r} must be a store URL (sqlite:///file.db or postgresql://...)")
    prefix = args.prefix.rstrip("/")
    if not _PREFIX.fullmatch(prefix):
        raise UsageError(f"--prefix {args.prefix!r} must be a path such as /whoson")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} must be between 0 and 65535")
    agents = _agents(args.agent)
    try:
        tracker = Tracker.open(args.source, rules=args.rules or ())
        site = build_site(tracker, prefix=prefix, demo_site=args.demo_site, agents=agents,
                          allow_origins=args.allow_origin)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    from whoson.web.app import close, start_ticker

    state = site.state.whoson
    start_ticker(state, 1.0)
    # proxy_headers=False: whoson decides whom to trust (WebConfig.trusted_proxies), not uvicorn.
    config = uvicorn.Config(site, host=args.host, port=args.port, log_level="warning", lifespan="off",
                            proxy_headers=False,
                            timeout_graceful_shutdown=3)
    server = _server_class()(config)
    _announce(server, args, prefix, agents)
    try:
        server.run()
    finally:
        close(site.state.whoson_app)
        tracker.close()
    print("whoson serve: stopped", file=sys.stderr)
    return EXIT_OK


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopping on SIGTERM / Ctrl-C without re-raising the signal afterwards.

        (uvicorn re-raises it once stopped, which would kill the process before
        the collector's queue is stored and the store closed.)
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            def stop(signum: int, frame: Any) -> None:
                if self.should_exit and signum == signal.SIGINT:
                    self.force_exit = True
                self.should_exit = True

            previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _announce(server: Any, args: argparse.Namespace, prefix: str, agents: dict[str, str]) -> None:
    """Print the URLs and tokens once the socket is bound (uvicorn calls ``startup``)."""
    startup = server.startup

    async def announce(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        bound = server.servers[0].sockets[0].getsockname() if server.servers else (args.host, args.port)
        host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
        base = f"http://{host}:{bound[1]}"
        lines = [f"whoson serve: {args.source}"]
        if args.demo_site:
            lines.append(f"  demo shop        {base}/")
        lines.append(f"  agents' console  {base}{prefix}/live")
        lines.append(f"  tag              <script defer src=\"{base}{prefix}/t.js\"></script>")
        lines.append(f"  counters         {base}{prefix}/stats")
        for name, token in agents.items():
            lines.append(f"  agent {name!r} token: {token}")
        lines.append("Ctrl-C to stop.")
        print("\n".join(lines), flush=True)

    server.startup = announce
