"""Which handler runs each job type: entry points, job modules, and what each declares.

Job types are plugins, the built-in ones included. A handler is a callable
``fn(ctx: JobContext) -> dict``, found two ways:

- the entry point group ``jobdash.job_types`` of any installed distribution, the name
  of the entry point being the job type's name (jobdash's own ``pyproject.toml``
  registers ``scan`` and ``transcode`` this way);
- ``--job-module MODULE`` (a module name, or a ``.py`` file), whose functions marked
  with :func:`job_type` are registered under their names.

:func:`job_type` also declares what kind of target the type needs (checked when a job
is submitted) and whether it can run on this host (``transcode`` needs ffmpeg). The
worker never imports a job type by name, so job types depend on the public API and
not the other way round.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from jobdash.model.job_types import TARGET_KINDS, JobTypeInfo
from jobdash.model.states import JOB_TYPE_RULE, is_job_type_name
from jobdash.worker.context import JobContext

ENTRY_POINT_GROUP = "jobdash.job_types"
_DECLARATION = "__jobdash_job_type__"

Handler = Callable[[JobContext], dict[str, Any] | None]
F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("jobdash.worker")


class RegistryError(Exception):
    """A job module cannot be loaded, or asks for something that does not exist."""


@dataclass(frozen=True)
class Declaration:
    """What a handler says about itself through :func:`job_type`."""

    name: str | None = None
    target: str = "any"
    description: str = ""
    available: Callable[[], str | None] | None = None
    check_params: Callable[[dict[str, Any]], None] | None = None
    on_worker_lost: str = "fail"


#: What happens to a running job whose worker died: failed (the default: the operator
#: decides), or queued to run again (for work that is safe to repeat).
ON_WORKER_LOST = ("fail", "requeue")


def job_type(
    name: str | None = None,
    *,
    target: str = "any",
    description: str = "",
    available: Callable[[], str | None] | None = None,
    check_params: Callable[[dict[str, Any]], None] | None = None,
    on_worker_lost: str = "fail",
) -> Callable[[F], F]:
    """Mark a function as a job type handler and declare what it needs.

    ``target`` is the kind of target it works on: ``directory``, ``file``, ``path``
    (either, existing) or ``any`` (free text). ``available`` returns None when the type
    can run on this host, else the reason it cannot (it is then not registered).
    ``check_params(params)`` raises ValueError naming what is wrong with a submission's
    params (checked before the job is queued, by the API and the CLI).
    ``on_worker_lost`` says what happens to a running job whose worker died (its
    heartbeat stopped): ``fail`` it (the default) or ``requeue`` it to run again, for
    work that is safe to repeat.
    ``name`` defaults to the function's name (for ``--job-module``; an entry point's
    name wins).

    >>> @job_type(target="file")
    ... def checksum(ctx): return {}
    >>> declaration(checksum).target
    'file'
    """
    assert target in TARGET_KINDS, f"target must be one of {', '.join(TARGET_KINDS)}"
    assert on_worker_lost in ON_WORKER_LOST, f"on_worker_lost must be one of {', '.join(ON_WORKER_LOST)}"

    def mark(fn: F) -> F:
        setattr(fn, _DECLARATION, Declaration(name, target, description, available, check_params, on_worker_lost))
        return fn

    return mark


def declaration(handler: Callable[..., Any]) -> Declaration:
    """Given a handler, return its declaration (the defaults when it has none)."""
    found = getattr(handler, _DECLARATION, None)
    return found if isinstance(found, Declaration) else Declaration()


@dataclass(frozen=True)
class JobTypes:
    """The job types this process can run: handlers by name, and their declarations."""

    handlers: dict[str, Handler]
    infos: dict[str, JobTypeInfo]
    unavailable: dict[str, str]

    def only(self, names: Iterable[str]) -> JobTypes:
        """Return these types restricted to ``names``; RegistryError naming the choices
        for a name that is not registered here."""
        wanted = list(dict.fromkeys(names))
        for name in wanted:
            if name not in self.handlers:
                why = f" ({self.unavailable[name]})" if name in self.unavailable else ""
                choices = ", ".join(sorted(self.handlers)) or "none"
                raise RegistryError(f"job type {name!r} cannot run here{why}; available: {choices}")
        return JobTypes(
            {n: self.handlers[n] for n in wanted}, {n: self.infos[n] for n in wanted}, dict(self.unavailable)
        )


def _add(types: JobTypes, name: str, handler: Any, origin: str) -> None:
    if not callable(handler):
        log.error("job type %r (%s) is not callable; left out", name, origin)
        return
    if not is_job_type_name(name):
        log.error("job type name %r (%s) is not valid (%s); left out", name, origin, JOB_TYPE_RULE)
        return
    if name in types.handlers:
        log.warning("job type %r (%s) is registered twice; the first one is kept", name, origin)
        return
    declared = declaration(handler)
    reason = declared.available() if declared.available is not None else None
    if reason:
        types.unavailable[name] = reason
        log.info("job type %r is not available here: %s", name, reason)
        return
    types.handlers[name] = handler
    types.infos[name] = JobTypeInfo(
        name, declared.target, declared.description or _first_line(handler.__doc__), declared.check_params
    )


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0]


def _import_module(spec: str) -> Any:
    """Given a module name or a .py file path, import it (RegistryError if impossible)."""
    try:
        if spec.endswith(".py") or "/" in spec:
            path = Path(spec).expanduser().resolve()
            if not path.is_file():
                raise RegistryError(f"job module file {spec!r} does not exist")
            module_spec = importlib.util.spec_from_file_location(f"jobdash_job_module_{path.stem}", path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_spec.name] = module
            module_spec.loader.exec_module(module)
            return module
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # a plain module in the current folder
        return importlib.import_module(spec)
    except RegistryError:
        raise
    except Exception as error:  # anything a third-party module may raise while importing
        raise RegistryError(f"job module {spec!r} cannot be imported: {error!r}") from None


def load_job_types(job_modules: Iterable[str] = (), group: str = ENTRY_POINT_GROUP) -> JobTypes:
    """Return the job types registered through entry points and ``job_modules``.

    An entry point that fails to load is logged and left out (one broken plugin must
    not stop every other type); a job module that cannot be imported, or that declares
    no job type, is a RegistryError (it was asked for by name).

    >>> "scan" in load_job_types().handlers
    True
    """
    types = JobTypes({}, {}, {})
    for point in sorted(entry_points(group=group), key=lambda point: point.name):
        try:
            handler = point.load()
        except Exception as error:  # any import-time failure of a third-party module
            log.error("job type %r (%s) cannot be loaded: %r", point.name, point.value, error)
            continue
        _add(types, point.name, handler, point.value)
    for spec in job_modules:
        module = _import_module(spec)
        found = [
            (declaration(value).name or value.__name__, value)
            for value in vars(module).values()
            if callable(value) and isinstance(getattr(value, _DECLARATION, None), Declaration)
        ]
        if not found:
            raise RegistryError(f"job module {spec!r} declares no job type; mark its handlers with @jobdash.job_type()")
        for name, handler in found:
            _add(types, name, handler, spec)
    return types


def load_handlers(group: str = ENTRY_POINT_GROUP) -> dict[str, Handler]:
    """Return the handlers registered through entry points, by name.

    >>> "scan" in load_handlers()
    True
    """
    return load_job_types(group=group).handlers
