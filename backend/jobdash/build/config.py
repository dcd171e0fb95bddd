"""Build-time configuration: keys, sources and their precedence, validation.

Precedence, highest first: command-line flags, ``JOBDASH_*`` environment variables, a
TOML file, defaults. The polling keys and booleans are parsed and clamped by
:mod:`jobdash.model.polling`, so those rules exist once in Python (the server uses
them too). Out-of-range numbers are clamped with a warning; a value that cannot be
parsed raises :class:`ConfigError` naming the key (and where the value came from).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jobdash.model.polling import (
    LOG_POLL_INTERVAL_DEFAULT_MS,
    MIN_UPDATE_GAP_DEFAULT_MS,
    POLL_INTERVAL_DEFAULT_MS,
    STALL_AFTER_DEFAULT_S,
    ConfigError,
    min_update_gap,
    parse_bool,
    parse_int,
    polling_config,
    stall_after,
)

# Key -> environment variable. The flag of a key is its name with dashes.
ENV_VARS: dict[str, str] = {
    "api_base_url": "JOBDASH_API_BASE_URL",
    "asset_base_url": "JOBDASH_ASSET_BASE_URL",
    "poll_interval_ms": "JOBDASH_POLL_INTERVAL_MS",
    "log_poll_interval_ms": "JOBDASH_LOG_POLL_INTERVAL_MS",
    "polling_enabled": "JOBDASH_POLLING_ENABLED",
    "min_update_gap_ms": "JOBDASH_MIN_UPDATE_GAP_MS",
    "stall_after_s": "JOBDASH_STALL_AFTER_S",
    "debug": "JOBDASH_DEBUG",
}
KEYS: tuple[str, ...] = tuple(ENV_VARS)

# A host name, an IPv4 address or a bracketed IPv6 address, with an optional port.
# Strict on purpose: the origin is written into the CSP, where a space, ";" or quote
# would change the policy.
_NETLOC = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
# Characters allowed in a base path: unreserved, percent-escapes, sub-delims minus the
# ones that matter in a CSP or an HTML attribute.
_PATH = re.compile(r"/(?:[A-Za-z0-9._~!$&()*+=@:/-]|%[0-9A-Fa-f]{2})*")


def flag_of(key: str) -> str:
    """Given a config key, return its command-line flag.

    >>> flag_of("poll_interval_ms")
    '--poll-interval-ms'
    """
    return "--" + key.replace("_", "-")


@dataclass(frozen=True)
class BuildConfig:
    """Validated build settings (build one with :func:`config_from_values`)."""

    api_base_url: str = ""
    asset_base_url: str = ""
    poll_interval_ms: int = POLL_INTERVAL_DEFAULT_MS
    log_poll_interval_ms: int = LOG_POLL_INTERVAL_DEFAULT_MS
    polling_enabled: bool = True
    min_update_gap_ms: int = MIN_UPDATE_GAP_DEFAULT_MS
    stall_after_s: int = STALL_AFTER_DEFAULT_S
    debug: bool = False

    def body_data(self) -> dict[str, str]:
        """Return the ``data-*`` attributes of ``<body>`` (name without ``data-`` -> text)."""
        return {
            "polling-interval": str(self.poll_interval_ms),
            "polling-log-interval": str(self.log_poll_interval_ms),
            "polling-enabled": "true" if self.polling_enabled else "false",
            "polling-min-update-gap": str(self.min_update_gap_ms),
            "stall-after": str(self.stall_after_s),
            "api-base": self.api_base_url,
            "debug": "true" if self.debug else "false",
        }


def origin_of(url: str) -> str:
    """Given an absolute http(s) URL, return its origin; "" for a path or "".

    >>> origin_of("https://CDN.example.com:8443/jobdash/"), origin_of("/static/")
    ('https://cdn.example.com:8443', '')
    """
    parts = urlsplit(url)
    if not parts.scheme:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string; got {value!r}")
    return value.strip()


def _absolute_base(key: str, text: str, what: str) -> str:
    """Given an absolute http(s) URL, return it ending in "/" or raise naming ``key``."""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{key} must be {what}; got {text!r}")
    problem = ""
    if "@" in parts.netloc:
        problem = "no user name or password"
    elif not _NETLOC.fullmatch(parts.netloc):
        problem = "a valid host name"
    elif parts.query or parts.fragment or text.endswith(("?", "#")):
        problem = "no query string or fragment"
    elif parts.path and not _PATH.fullmatch(parts.path):
        problem = "a path without spaces, quotes, ';' or ','"
    if problem:
        raise ConfigError(f"{key} must be {what}, with {problem}; got {text!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def api_base(value: object) -> str:
    """Given the raw ``api_base_url``, return "" (same origin) or a URL ending in "/".

    >>> api_base("https://api.example.com/jobdash"), api_base("")
    ('https://api.example.com/jobdash/', '')
    """
    text = _text("api_base_url", value)
    if not text:
        return ""
    return _absolute_base(
        "api_base_url", text, "an absolute http(s) URL such as https://api.example.com/ (or empty for the same origin)"
    )


def asset_base(value: object) -> str:
    """Given the raw ``asset_base_url``, return "" (relative), a "/path/" or a URL ending in "/".

    >>> asset_base("/static"), asset_base("https://cdn.example.com")
    ('/static/', 'https://cdn.example.com/')
    """
    text = _text("asset_base_url", value)
    if not text:
        return ""
    what = "an absolute http(s) URL or a path starting with / (or empty for relative URLs)"
    if text.startswith("/") and not text.startswith("//"):
        if not _PATH.fullmatch(text) or "?" in text or "#" in text:
            raise ConfigError(
                f"asset_base_url must be {what}, without spaces, quotes, ';', ',' or a query; got {text!r}"
            )
        return text if text.endswith("/") else text + "/"
    return _absolute_base("asset_base_url", text, what)


def config_from_values(values: Mapping[str, object]) -> tuple[BuildConfig, list[str]]:
    """Given raw values by key (absent = default), return (BuildConfig, warnings).

    Raises ConfigError naming the key for an unknown key or an unparsable value.

    >>> config_from_values({"poll_interval_ms": "500"})
    (BuildConfig(api_base_url='', asset_base_url='', poll_interval_ms=2000, log_poll_interval_ms=15000, polling_enabled=True, min_update_gap_ms=1000, stall_after_s=120, debug=False), ['poll_interval_ms=500 is out of range 2000-60000; using 2000'])
    """
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}; allowed keys: {', '.join(KEYS)}")
    interval = values.get("poll_interval_ms", POLL_INTERVAL_DEFAULT_MS)
    enabled = values.get("polling_enabled", True)
    # Parse each value on its own first, so an error names the key that is wrong.
    parse_int("poll_interval_ms", interval)  # type: ignore[arg-type]
    parse_bool("polling_enabled", enabled)  # type: ignore[arg-type]
    polling, warnings = polling_config(interval, LOG_POLL_INTERVAL_DEFAULT_MS, enabled)  # type: ignore[arg-type]
    if "log_poll_interval_ms" in values:
        log_interval = values["log_poll_interval_ms"]
    else:
        # Not set anywhere: follow a slow poll interval silently instead of warning
        # about a value nobody chose.
        log_interval = max(LOG_POLL_INTERVAL_DEFAULT_MS, polling.interval_ms)
    polling, warnings = polling_config(interval, log_interval, enabled)  # type: ignore[arg-type]
    gap = min_update_gap(values.get("min_update_gap_ms", MIN_UPDATE_GAP_DEFAULT_MS), warnings)  # type: ignore[arg-type]
    stall = stall_after(values.get("stall_after_s", STALL_AFTER_DEFAULT_S), warnings)  # type: ignore[arg-type]
    config = BuildConfig(
        api_base_url=api_base(values.get("api_base_url", "")),
        asset_base_url=asset_base(values.get("asset_base_url", "")),
        poll_interval_ms=polling.interval_ms,
        log_poll_interval_ms=polling.log_interval_ms,
        polling_enabled=polling.enabled,
        min_update_gap_ms=gap,
        stall_after_s=stall,
        debug=parse_bool("debug", values.get("debug", False)),  # type: ignore[arg-type]
    )
    return config, warnings


def read_toml(path: Path) -> dict[str, object]:
    """Given a TOML config file, return its table; ConfigError for a missing/bad file or key."""
    try:
        with path.open("rb") as file:
            table = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"config file {path}: unknown key {key!r}; allowed keys: {', '.join(KEYS)}")
    return table


def resolve_config(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    config_file: Path | None = None,
) -> tuple[BuildConfig, list[str]]:
    """Given flag values (None = not given), the environment and a TOML file, return
    (BuildConfig, warnings), each key taken from its highest-precedence source.

    An empty environment variable counts as unset, as for the ``jobdash`` command.
    ConfigError messages name the key and where the bad value came from.
    """
    table = read_toml(config_file) if config_file is not None else {}
    chosen: dict[str, object] = {}
    origin: dict[str, str] = {}
    for key in KEYS:
        env_value = environ.get(ENV_VARS[key])
        if flags.get(key) is not None:
            chosen[key], origin[key] = flags[key], flag_of(key)
        elif env_value not in (None, ""):
            chosen[key], origin[key] = env_value, f"environment variable {ENV_VARS[key]}"
        elif key in table:
            chosen[key], origin[key] = table[key], f"config file {config_file}"
    # Validate one key at a time so the message can say where the bad value came from.
    for key, value in chosen.items():
        try:
            config_from_values({key: value})
        except ConfigError as error:
            raise ConfigError(f"{origin[key]}: {error}") from None
    return config_from_values(chosen)
