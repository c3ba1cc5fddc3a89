"""whoson on the web (extra ``[web]``): the tag, the collector and the agents' console.

Mount :func:`asgi_app` under a prefix in an ASGI host (Starlette, FastAPI,
Django's ``asgi.py``); a WSGI host (Flask, Django under WSGI) uses
:func:`wsgi_app` for the collector and the JSON endpoints.

>>> from whoson import Tracker
>>> from whoson.web import WebConfig, asgi_app
>>> app = asgi_app(Tracker(), config=WebConfig(heartbeat_seconds=20))
>>> app.state.whoson.config.heartbeat_seconds
20
>>> app.state.whoson.close()
"""

from __future__ import annotations

from whoson.web.app import asgi_app
from whoson.web.config import WebConfig
from whoson.web.wsgi import wsgi_app

__all__ = ["WebConfig", "asgi_app", "wsgi_app"]
