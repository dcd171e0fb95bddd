"""Build-time configuration: precedence (flag > env > TOML > default), clamping with a
warning, errors naming the key, and ``python build.py --help``."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobdash.build.cli import main
from jobdash.build.config import (
    ENV_VARS,
    KEYS,
    BuildConfig,
    ConfigError,
    config_from_values,
    flag_of,
    resolve_config,
)
from support.frontend_tree import make_frontend

ROOT = Path(__file__).resolve().parents[2]


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, config: str | None = None
) -> tuple[int, str, str, str]:
    """Build the fixture frontend with ``build.py``'s main; return (code, stdout, stderr, index.html)."""
    source = tmp_path / "frontend"
    if not source.exists():
        make_frontend(source)
    extra: list[str] = []
    if config is not None:
        (tmp_path / "jobdash.toml").write_text(config)
        extra = ["--config", str(tmp_path / "jobdash.toml")]
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["--source", str(source), "--out", str(tmp_path / "dist"), *extra, *args],
        environ=env or {},
        stdout=out,
        stderr=err,
    )
    index = tmp_path / "dist" / "index.html"
    return code, out.getvalue(), err.getvalue(), index.read_text() if code == 0 else ""


def body(html: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", html)
    assert tag, html
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(1)))


# --- through build.py ----------------------------------------------------------------------


def test_a_flag_reaches_the_page(tmp_path: Path) -> None:
    code, out, err, html = run(
        tmp_path,
        *("--poll-interval-ms", "2000", "--debug", "true", "--polling-enabled", "off", "--stall-after-s", "300"),
        *("--min-update-gap-ms", "500"),
    )
    assert (code, err) == (0, "")
    assert body(html) == {
        "polling-interval": "2000",
        "polling-log-interval": "15000",
        "polling-enabled": "false",
        "polling-min-update-gap": "500",
        "stall-after": "300",
        "api-base": "",
        "debug": "true",
    }
    summary = out.strip()
    assert "\n" not in summary and summary.startswith(
        f"built {tmp_path / 'dist'}: 2 pages (index.html, job.html), 7 modules"
    )
    assert re.search(r"bytes raw, [\d,]+ bytes gzipped$", summary), summary


@pytest.mark.parametrize(("given", "used"), [("500", "2000"), ("999999", "60000")])
def test_out_of_range_intervals_warn_and_clamp(tmp_path: Path, given: str, used: str) -> None:
    code, _, err, html = run(tmp_path, "--poll-interval-ms", given)
    assert code == 0
    assert err == f"build.py: warning: poll_interval_ms={given} is out of range 2000-60000; using {used}\n"
    assert body(html)["polling-interval"] == used
    assert int(body(html)["polling-log-interval"]) >= int(used)


@pytest.mark.parametrize(("given", "used"), [("10", "30"), ("86400", "3600")])
def test_an_out_of_range_stall_time_warns_and_clamps(tmp_path: Path, given: str, used: str) -> None:
    code, _, err, html = run(tmp_path, "--stall-after-s", given)
    assert code == 0
    assert err == f"build.py: warning: stall_after_s={given} is out of range 30-3600; using {used}\n"
    assert body(html)["stall-after"] == used


@pytest.mark.parametrize(("given", "used"), [("100", "250"), ("60000", "10000")])
def test_an_out_of_range_min_update_gap_warns_and_clamps(tmp_path: Path, given: str, used: str) -> None:
    code, _, err, html = run(tmp_path, "--min-update-gap-ms", given)
    assert code == 0
    assert err == f"build.py: warning: min_update_gap_ms={given} is out of range 250-10000; using {used}\n"
    assert body(html)["polling-min-update-gap"] == used


def test_the_min_update_gap_from_env_and_toml(tmp_path: Path) -> None:
    code, _, err, html = run(tmp_path, config="min_update_gap_ms = 2000\n")
    assert (code, err) == (0, "")
    assert body(html)["polling-min-update-gap"] == "2000"
    code, _, err, html = run(tmp_path, env={"JOBDASH_MIN_UPDATE_GAP_MS": "750"}, config="min_update_gap_ms = 2000\n")
    assert (code, err) == (0, "")
    assert body(html)["polling-min-update-gap"] == "750"
    code, _, err, html = run(tmp_path)
    assert (code, err) == (0, "")
    assert body(html)["polling-min-update-gap"] == "1000"  # the default


def test_a_log_interval_below_the_poll_interval_is_raised(tmp_path: Path) -> None:
    code, _, err, html = run(tmp_path, "--poll-interval-ms", "10000", "--log-poll-interval-ms", "3000")
    assert code == 0
    assert "warning: log_poll_interval_ms=3000 is out of range 10000-300000; using 10000" in err
    assert body(html)["polling-log-interval"] == "10000"


def test_an_unset_log_interval_follows_a_slow_poll_interval_silently(tmp_path: Path) -> None:
    code, _, err, html = run(tmp_path, "--poll-interval-ms", "60000")
    assert (code, err) == (0, "")
    assert body(html)["polling-log-interval"] == "60000"


@pytest.mark.parametrize(
    ("args", "env", "config", "names"),
    [
        (["--poll-interval-ms", "fast"], {}, None, ["--poll-interval-ms", "poll_interval_ms", "'fast'"]),
        ([], {"JOBDASH_LOG_POLL_INTERVAL_MS": "1e4"}, None, ["JOBDASH_LOG_POLL_INTERVAL_MS", "log_poll_interval_ms"]),
        ([], {}, "polling_enabled = 'maybe'\n", ["jobdash.toml", "polling_enabled", "'maybe'"]),
        ([], {}, "poll_interval_ms = 2500.0\n", ["jobdash.toml", "poll_interval_ms"]),
        (["--debug", "yes please"], {}, None, ["--debug", "debug must be true or false"]),
        ([], {}, "api_base_url = 8000\n", ["api_base_url must be a string"]),
        ([], {"JOBDASH_STALL_AFTER_S": "2min"}, None, ["JOBDASH_STALL_AFTER_S", "stall_after_s", "whole number"]),
        (["--min-update-gap-ms", "1s"], {}, None, ["--min-update-gap-ms", "min_update_gap_ms", "'1s'"]),
        ([], {"JOBDASH_MIN_UPDATE_GAP_MS": "0.5"}, None, ["JOBDASH_MIN_UPDATE_GAP_MS", "min_update_gap_ms"]),
        ([], {}, "min_update_gap_ms = 'fast'\n", ["jobdash.toml", "min_update_gap_ms", "whole number"]),
    ],
)
def test_an_unparsable_value_is_an_error_naming_the_key(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str | None, names: list[str]
) -> None:
    code, out, err, _ = run(tmp_path, *args, env=env, config=config)
    assert code == 2 and out == ""
    assert err.startswith("build.py: error: ") and err.count("\n") == 1, err
    for name in names:
        assert name in err, (name, err)
    assert not (tmp_path / "dist").exists()


def test_an_unknown_toml_key_is_an_error_listing_the_allowed_ones(tmp_path: Path) -> None:
    code, _, err, _ = run(tmp_path, config="poll_interval = 3000\n")
    assert code == 2
    assert "unknown key 'poll_interval'" in err and "allowed keys: " + ", ".join(KEYS) in err


def test_invalid_toml_and_a_missing_file_are_errors(tmp_path: Path) -> None:
    code, _, err, _ = run(tmp_path, config="poll_interval_ms = \n")
    assert code == 2 and "is not valid TOML" in err
    code, _, err, _ = run(tmp_path, "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml does not exist" in err


@pytest.mark.parametrize(
    "url",
    [
        "api.example.com",
        "ftp://api.example.com/",
        "/api/",
        "https://",
        "https://api.example.com/?x=1",
        "https://user:pw@api.example.com/",
        "https://api example.com/",
        "https://api.example.com;script-src *",
    ],
)
def test_a_bad_api_base_url_is_an_error(tmp_path: Path, url: str) -> None:
    code, _, err, _ = run(tmp_path, "--api-base-url", url)
    assert code == 2 and "--api-base-url: api_base_url must be an absolute http(s) URL" in err, err


@pytest.mark.parametrize("url", ["//cdn.example.com/", "cdn.example.com", "/static/ x", "javascript:alert(1)"])
def test_a_bad_asset_base_url_is_an_error(tmp_path: Path, url: str) -> None:
    code, _, err, _ = run(tmp_path, "--asset-base-url", url)
    assert code == 2 and "asset_base_url must be" in err, err


def test_base_urls_are_normalised() -> None:
    config, _ = config_from_values({"api_base_url": " HTTPS://API.example.com/v1 ", "asset_base_url": "/static"})
    assert (config.api_base_url, config.asset_base_url) == ("https://api.example.com/v1/", "/static/")


# --- precedence ------------------------------------------------------------------------------


def test_precedence_is_flag_then_env_then_toml_then_default(tmp_path: Path) -> None:
    toml = tmp_path / "build.toml"
    toml.write_text(
        "poll_interval_ms = 3000\nlog_poll_interval_ms = 30000\npolling_enabled = false\n"
        'api_base_url = "https://toml.example.com/"\n'
    )
    env = {"JOBDASH_POLL_INTERVAL_MS": "4000", "JOBDASH_LOG_POLL_INTERVAL_MS": "40000", "JOBDASH_DEBUG": ""}
    flags = {key: None for key in KEYS} | {"poll_interval_ms": "5000"}
    config, warnings = resolve_config(flags, env, toml)
    assert warnings == []
    assert config == BuildConfig(
        api_base_url="https://toml.example.com/",  # toml (no flag, no env)
        asset_base_url="",  # default
        poll_interval_ms=5000,  # flag beats env and toml
        log_poll_interval_ms=40000,  # env beats toml
        polling_enabled=False,  # toml beats default
        debug=False,  # an empty env var counts as unset
    )


def test_an_empty_flag_overrides_the_environment() -> None:
    config, _ = resolve_config({"api_base_url": ""}, {"JOBDASH_API_BASE_URL": "https://api.example.com/"})
    assert config.api_base_url == ""


def test_build_toml_in_the_source_is_the_default_config_file(tmp_path: Path) -> None:
    make_frontend(tmp_path / "frontend")
    (tmp_path / "frontend" / "build.toml").write_text("poll_interval_ms = 7000\n")
    code, _, _, html = run(tmp_path)
    assert code == 0 and body(html)["polling-interval"] == "7000"
    assert not list((tmp_path / "dist").rglob("build*")), "build.toml is not shipped"
    code, _, _, html = run(tmp_path, env={"JOBDASH_POLL_INTERVAL_MS": "8000"})
    assert body(html)["polling-interval"] == "8000"


def test_env_vars_and_flags_cover_every_key() -> None:
    assert set(ENV_VARS) == set(KEYS) == set(BuildConfig.__dataclass_fields__)
    assert [ENV_VARS[key] for key in KEYS] == ["JOBDASH_" + key.upper() for key in KEYS]


def test_config_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="poll_interval_ms"):
        config_from_values({"poll_interval_ms": "2s"})
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        config_from_values({"colour": "blue"})


# --- the command ------------------------------------------------------------------------------


def test_help_documents_every_flag() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for flag in ["--config", "--out", "--source", *(flag_of(key) for key in KEYS)]:
        assert flag in result.stdout, flag
    for env in ENV_VARS.values():
        assert env in result.stdout, env
    assert "2000-60000" in result.stdout and "highest first" in result.stdout


def test_a_usage_error_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "--no-such-flag" in result.stderr
