"""The HTTP server: the Starlette app with the JSON API and the static frontend.

Owns: the app and its start-up checks (``app``), the endpoints (``api``), JSON bodies,
ETags and errors (``responses``), the read cache and the 304 fast path (``read_cache``,
``revalidation``), the OpenAPI document (``openapi``), security headers (``security``),
serving ``dist/`` (``static``) and the server's settings (``settings``). May import:
:mod:`jobdash.store` (through its interface), :mod:`jobdash.model`, :mod:`jobdash.util`;
never the worker (a worker process is handed to the app as a companion by the CLI).
"""
