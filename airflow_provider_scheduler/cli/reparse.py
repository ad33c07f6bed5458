"""After ``pause``, ``resume`` or ``delete``, tell the running Airflow at once instead of at its next parse.

The store write is what counts: it is done before this runs, and nothing here can undo it. Airflow
learns of it when its DAG processor next parses the loader file (every ``min_file_process_interval``,
30 s by default). Through the ``scheduler_default`` connection (type ``scheduler``), where one is
configured, the command asks Airflow 3 to reparse that file now (``SchedulerHook.request_reparse``,
what the UI's Reparse button does): the loader's refresh then sees the change and pushes a pause or
resume to the DAG within seconds. A deleted spec's DAG is paused through the API first, so the
scheduler stops creating runs at once; Airflow itself then marks the DAG stale (it leaves the DAG list)
when its stale-DAG check next runs, ``stale_dag_threshold`` + up to ``parsing_cleanup_interval``
seconds (50 + 60 by default) after the reparse: that part is Airflow's, and is said as it is.

Every outcome is one line on stderr (stdout keeps the command's result), and none changes the exit
status: no connection, Airflow 2.x (no reparse endpoint), Airflow down or a DAG Airflow does not
know yet each say what happens instead.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from airflow.providers.common.compat.sdk import AirflowNotFoundException

from airflow_provider_scheduler.hooks.scheduler import (
    SchedulerApiError,
    SchedulerHook,
    SchedulerNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

#: The connection the CLI asks Airflow through (the loader's pause sync uses the same default).
REPARSE_CONN_ID = "scheduler_default"
#: Seconds one API request may take: the store write is done, the command should not hang on Airflow.
REQUEST_TIMEOUT = 5.0


def _seconds(*options: tuple[str, str], default: int) -> int:
    """The first of ``options`` (section, key) the deployment's configuration has, else ``default``."""
    from airflow.configuration import conf

    for section, key in options:
        try:
            if conf.has_option(section, key):
                return conf.getint(section, key)
        except (ValueError, TypeError):
            continue
    return default


def next_parse_seconds() -> int:
    """How often the DAG processor parses a known DAG file (``min_file_process_interval``)."""
    return _seconds(
        ("dag_processor", "min_file_process_interval"),  # Airflow 3
        ("scheduler", "min_file_process_interval"),  # Airflow 2.x
        default=30,
    )


def stale_seconds() -> tuple[int, int]:
    """``(stale_dag_threshold, parsing_cleanup_interval)``: when Airflow marks a vanished DAG stale."""
    threshold = _seconds(
        ("dag_processor", "stale_dag_threshold"), ("scheduler", "stale_dag_threshold"), default=50
    )
    cleanup = _seconds(
        ("scheduler", "parsing_cleanup_interval"),
        ("dag_processor", "parsing_cleanup_interval"),
        default=60,
    )
    return threshold, cleanup


def _without_reparse(action: str) -> str:
    """What happens when nobody asks for a reparse, in words."""
    when = f"when the DAG processor next parses the loader file (every {next_parse_seconds()} s)"
    if action != "delete":
        return f"Airflow applies the change {when}"
    threshold, cleanup = stale_seconds()
    return (
        f"Airflow stops scheduling the DAG {when} and marks it stale (gone from the DAG list) "
        f"{threshold} to {threshold + cleanup} s after that"
    )


@contextlib.contextmanager
def quiet_logging() -> Iterator[None]:
    """No log records while the CLI talks to Airflow: the command prints one line of its own.

    Airflow's own logging writes to stdout in a CLI process (2.11: "Retrieving connection ...", a
    metastore lookup's traceback when the connection is only in the environment; 3.x: the hook's INFO
    lines), which would mix into the command's output.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


def tell_airflow(
    spec_id: str, action: str, *, conn_id: str = REPARSE_CONN_ID, err: TextIO | None = None
) -> None:
    """Ask the Airflow of ``conn_id`` to apply the stored ``action`` on ``spec_id`` now; say what happened.

    :param spec_id: the spec (its dag_id).
    :param action: ``pause``, ``resume`` or ``delete``, already written to the store.
    :param conn_id: the ``scheduler`` connection to the deployment that loads the spec.
    :param err: where to write the one line (default ``sys.stderr``).
    """
    with quiet_logging():
        _tell_airflow(spec_id, action, conn_id, err if err is not None else sys.stderr)


def _tell_airflow(spec_id: str, action: str, conn_id: str, out: TextIO) -> None:
    hook = SchedulerHook(conn_id, timeout=REQUEST_TIMEOUT, max_retries=0)
    # Airflow 3 gives hooks a structlog logger that prints past logging.disable: use a stdlib one.
    hook._log = logging.getLogger(__name__)  # type: ignore[assignment]
    try:
        base_url = hook.settings.base_url
    except AirflowNotFoundException:
        print(f"note: no Airflow connection {conn_id!r} here, so {_without_reparse(action)}.", file=out)
        return
    except ValueError as exc:
        print(f"note: {exc}; so {_without_reparse(action)}.", file=out)
        return
    except Exception as exc:  # a secrets backend or metadata DB that cannot be read from here
        # Only the class: a backend's message may quote its own URL or credentials.
        print(
            f"note: cannot read the Airflow connection {conn_id!r} here ({type(exc).__name__}), "
            f"so {_without_reparse(action)}.",
            file=out,
        )
        return
    try:
        if action == "delete":
            # The scheduler stops creating runs of the deleted spec now, not when the DAG goes stale.
            hook.set_dag_paused(spec_id, True)
        if hook.api_version != "v2":
            print(
                f"note: {base_url} is Airflow 2.x (REST API v1), which cannot be asked to reparse a "
                f"file; {_without_reparse(action)}"
                + (" (its DAG is paused already)." if action == "delete" else "."),
                file=out,
            )
            return
        file_name = hook.request_reparse(spec_id)
    except SchedulerNotFoundError:
        print(f"note: Airflow at {base_url} has no DAG {spec_id} (yet); nothing to tell it.", file=out)
        return
    except SchedulerApiError as exc:
        print(
            f"warning: could not tell Airflow at {base_url} ({exc}); the change is stored and "
            f"{_without_reparse(action)}.",
            file=out,
        )
        return
    finally:
        hook.close()
    if action == "delete":
        threshold, cleanup = stale_seconds()
        print(
            f"paused DAG {spec_id} in Airflow at {base_url} and asked it to reparse {file_name}; Airflow "
            f"marks the DAG stale (gone from the DAG list) {threshold} to {threshold + cleanup} s after "
            "that ([dag_processor] stale_dag_threshold + [scheduler] parsing_cleanup_interval).",
            file=out,
        )
    else:
        past = "paused" if action == "pause" else "resumed"
        print(
            f"asked Airflow at {base_url} to reparse {file_name}: the DAG is {past} within seconds.",
            file=out,
        )
