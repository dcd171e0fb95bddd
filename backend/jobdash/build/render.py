"""Jinja2 rendering of page templates (autoescape on; an undefined name is an error)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2

from jobdash.build.errors import BuildError


def environment(templates: Path) -> jinja2.Environment:
    """Given the templates directory, return the Jinja2 environment for the pages."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates), encoding="utf-8"),
        autoescape=True,
        # A misspelt variable fails the build instead of rendering as nothing.
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(env: jinja2.Environment, template: str, context: Mapping[str, object], where: str) -> str:
    """Given the environment, a template name, its context and its path for messages,
    return the page's HTML.

    Raises BuildError naming the template (and line, when known) for any template error.
    """
    try:
        return env.get_template(template).render(**context)
    except BuildError as error:
        raise BuildError(f"{where}: {error}") from None
    except jinja2.TemplateSyntaxError as error:
        # The error may be in a layout or partial: name that file.
        folder = where[: -len(template)] if where.endswith(template) else ""
        raise BuildError(f"{folder}{error.name or template}:{error.lineno}: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        raise BuildError(f"{where}: includes or extends {error.name!r}, which is not in templates/") from None
    except jinja2.TemplateError as error:
        raise BuildError(f"{where}: {error}") from None
    except UnicodeDecodeError as error:
        raise BuildError(f"{where} (or a template it uses): not UTF-8 text ({error})") from None
