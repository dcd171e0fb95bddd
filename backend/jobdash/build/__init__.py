"""The static frontend build behind ``python build.py``: frontend/ -> dist/.

Public API::

    from jobdash.build import BuildConfig, BuildError, build, resolve_config
    config, warnings = resolve_config(flags={}, environ=os.environ)
    result = build(Path("frontend"), Path("dist"), config)
    print(result.summary())

One module per job: ``sources`` (what to build), ``modules`` (esbuild transform and
imports), ``css`` (hashed references in stylesheets), ``hashing``, ``importmap``,
``csp`` (policy and page check), ``render`` (Jinja2), ``output`` (gzip, atomic write),
``config`` (flags > env > TOML > defaults), ``pipeline`` (all of it), ``cli``.

Independent of the server: may import :mod:`jobdash.model` (the vocabulary and polling
rules the pages are built with), never the store, the worker, the HTTP app or the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

# Exported names -> the module that defines them. Imported on first use, so that
# importing one build module does not load esbuild and Jinja2.
_EXPORTS = {
    "BuildConfig": "jobdash.build.config",
    "config_from_values": "jobdash.build.config",
    "resolve_config": "jobdash.build.config",
    "BuildError": "jobdash.build.errors",
    "BuildResult": "jobdash.build.pipeline",
    "build": "jobdash.build.pipeline",
    "plan": "jobdash.build.pipeline",
    "ConfigError": "jobdash.model.polling",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Return an exported name, importing its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
