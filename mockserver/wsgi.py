"""`refund-mock serve --workers N`: granian worker processes sharing one state.

`serve` (in `mockserver.cli`) builds the app once, in a short-lived child process, to check the
settings and scenario files and to load the fixtures into the state file; the parent then starts
granian, which runs N worker processes on the same port, and otherwise only supervises them (it
never imports the app, so its memory stays that of granian). Each worker calls
`create_worker_app`, which builds the app from the settings left in the environment, without
loading fixtures: a worker that granian restarts after a crash opens the state as it is,
acknowledged refunds included. The journal, run-time scenarios and rule counters are shared
through the run folder (`mockserver.shared`), and so are the rate-limit buckets
(`mockserver.ratelimit`, a memory-mapped file there), so the admin API acts on the whole server
whichever worker answers.

granian was chosen by measurement (docs/performance.md): on 2 cores it serves the same Flask app
about 2.5 times as fast as gunicorn. It does not hand the connection to the app, so the
`connection-reset` and `empty-response` faults answer 501 under `--workers` and keep working
under the default single-process server.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parent of the workers runs `run` without importing the app (see `serve`)
    from flask import Flask

    from mockserver.app import MockConfig
    from mockserver.tls import ServerCertificate

SETTINGS_VARIABLE = "REFUND_MOCK_WORKER_SETTINGS"
WORKER_TARGET = "mockserver.wsgi:create_worker_app"
# Python threads per worker. Requests compute under the GIL, so a few threads serve as many
# requests per second as many threads, and with a much shorter tail: with 4, p99 was 16-21 ms
# at 32 connections; with 64, 33-55 ms (docs/performance.md). A request that waits
# (`--latency`, a scenario `delay`) holds its thread, so with `--latency` each worker gets more.
THREADS = 4
THREADS_WITH_LATENCY = 64


def worker_settings(config: MockConfig, fixture_errors: list[str], fixture_problems: list[str] | None = None) -> str:
    """The settings a worker needs, as JSON for the environment (forked and spawned workers alike)."""
    if config.state_path is None or config.run_dir is None:
        raise ValueError("workers share a state file and a run folder: both must be set")
    return json.dumps(
        {
            "state_path": str(config.state_path),
            "run_dir": str(config.run_dir),
            "tokens": config.tokens,
            "validate_responses": config.validate_responses,
            "max_body_bytes": config.max_body_bytes,
            "scenario_files": [str(path) for path in config.scenario_files],
            "builtin_scenarios": config.builtin_scenarios,
            "latency_ms": list(config.latency_ms) if config.latency_ms is not None else None,
            "journal_size": config.journal_size,
            "session_idle": config.session_idle,
            "admin_token": config.admin_token,
            "cors": config.cors,
            "throttle": config.throttle,
            "plans": list(config.plans),
            "allowed_hosts": config.allowed_hosts,
            "admin_origins": config.admin_origins,
            "fixture_errors": fixture_errors,
            "fixture_problems": fixture_problems or [],
            "watch": bool(config.extra.get("watch")),
        }
    )


def worker_config(text: str) -> tuple[MockConfig, list[str], list[str]]:
    from mockserver.app import MockConfig

    settings: dict[str, Any] = json.loads(text)
    latency = settings["latency_ms"]
    config = MockConfig(
        state_path=Path(settings["state_path"]),
        run_dir=Path(settings["run_dir"]),
        tokens=settings["tokens"],
        validate_responses=settings["validate_responses"],
        max_body_bytes=settings["max_body_bytes"],
        load_fixtures=False,  # the parent loaded them once; a restarted worker must not reload them
        scenario_files=[Path(path) for path in settings["scenario_files"]],
        builtin_scenarios=settings["builtin_scenarios"],
        latency_ms=(latency[0], latency[1]) if latency is not None else None,
        journal_size=settings["journal_size"],
        session_idle=settings.get("session_idle", 3600.0),
        admin_token=settings["admin_token"],
        cors=settings["cors"],
        throttle=settings["throttle"],
        plans=tuple(settings["plans"]),
        allowed_hosts=list(settings["allowed_hosts"]),
        admin_origins=list(settings["admin_origins"]),
        connection_faults=False,
        extra={"watch": bool(settings.get("watch"))},
    )
    return config, list(settings["fixture_errors"]), list(settings.get("fixture_problems", []))


def create_worker_app() -> Flask:
    """granian's factory: the app of one worker process.

    A forked worker inherits the supervisor's SIGTERM handler, which only flags the supervisor's
    own loop, until granian installs the worker's after this factory returns: a worker told to
    stop while it builds the app would ignore it, and the server would take granian's 10 s kill
    timeout to stop (past `docker stop`'s grace, which then leaves the run folder behind).
    Meanwhile SIGTERM simply ends the worker: it holds nothing yet.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from mockserver.app import create_app, server_of

    text = os.environ.get(SETTINGS_VARIABLE)
    if text is None:
        raise RuntimeError(f"{SETTINGS_VARIABLE} is not set: start workers with `refund-mock serve --workers N`")
    config, fixture_errors, fixture_problems = worker_config(text)
    if config.extra.get("watch"):
        config.scenario_files = []  # `serve --watch`: their last good versions come from the run folder
    app = create_app(config)
    server = server_of(app)
    server.fixture_errors = fixture_errors  # health reports what the parent skipped...
    server.fixture_problems = fixture_problems  # ...and what it served although it does not add up
    if config.extra.get("watch"):
        from mockserver.watch import follow

        follow(app)
    return app


def threads_for(config: MockConfig, threads: int | None) -> int:
    if threads is not None:
        return threads
    return THREADS_WITH_LATENCY if config.latency_ms else THREADS


def run(
    host: str, port: int, workers: int, settings: str, threads: int, certificate: ServerCertificate | None = None
) -> None:
    """Serve until interrupted (SIGINT, SIGTERM); granian restarts a worker that dies."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    os.environ[SETTINGS_VARIABLE] = settings  # from `worker_settings`
    tls: dict[str, Any] = {}
    if certificate is not None:  # `serve --tls`
        from granian.constants import SSLProtocols

        # TLS 1.2 too (granian's default minimum is 1.3), as some HTTP clients still stop there
        tls = {"ssl_cert": certificate.cert_file, "ssl_key": certificate.key_file}
        tls["ssl_protocol_min"] = SSLProtocols.tls12
    server = Granian(
        WORKER_TARGET,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        factory=True,
        blocking_threads=threads,
        websockets=False,
        respawn_failed_workers=True,
        workers_kill_timeout=10,
        log_level=LogLevels.warning,
        **tls,
    )
    # granian warns when threads outnumber the cores; ours are for waiting (--latency), not computing
    logging.getLogger("_granian").addFilter(lambda record: "Python threads" not in record.getMessage())
    server.serve()
