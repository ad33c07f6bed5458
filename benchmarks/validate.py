"""Validation-time benchmark: the worst case of the adversarial corpus next to a plain spec.

Issue 13 row 2 asks that every validation finish in time roughly linear in its input, whatever the
input under the 1 MiB limit. This runs every case of the adversarial corpus
(``tests/unit/spec/adversarial``: the case files and the generated cases near the limits: huge lists,
deep nesting, ReDoS patterns, long templates, 1 MiB documents) and a plain spec
(``example_dags/specs/analytics-weekday-report.yaml``) through what ``airflow-scheduler validate``
does for a file, ``read_spec_file`` (read, parse YAML/JSON, ``parse_spec``) with the built-in
templates and limits, and prints for each the file size, the median wall-clock time over
``--repeat`` runs and the time per KiB; then the worst case, the plain spec and their ratio.

Each timed run starts cold: the caches of validation (Jinja verdicts, param schema verdicts, regex
analyses) are cleared before it, so a repeated case is not answered from the cache. One untimed run
per case comes first (imports, the templates' compiled schemas).

The worst case is a 1 MiB document, a thousand times the plain spec's size, so the ratio is large by
design; the per-KiB column shows the work per input size.

Run: ``.venvs/af33/bin/python benchmarks/validate.py [--repeat N] [--only SUBSTRING]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PLAIN = REPO / "example_dags" / "specs" / "analytics-weekday-report.yaml"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "unit" / "spec" / "adversarial"))

from adversarial_cases import Case, all_cases  # noqa: E402

from airflow_provider_scheduler.spec import (  # noqa: E402
    SpecError,
    jinja_check,
    parser,
    regex_guard,
)
from airflow_provider_scheduler.spec.loader import read_spec_file  # noqa: E402


def builtin() -> tuple[Any, Any]:
    """The templates and limits of ``validate --builtin-defaults``."""
    from airflow_provider_scheduler.cli.deployment import registry_and_policy

    return registry_and_policy(argparse.Namespace(builtin_defaults=True))


def clear_caches() -> None:
    jinja_check._check_cached.cache_clear()
    parser._cached_param_schema_problem.cache_clear()
    regex_guard._analyse.cache_clear()


def validate(path: Path, registry: Any, policy: Any) -> str:
    """``accepted`` or ``refused``, the way ``validate`` decides for a file."""
    try:
        results = read_spec_file(path, catalog=registry, policy=policy)
    except SpecError:
        return "refused"
    return "refused" if any(isinstance(r, SpecError) for r in results) else "accepted"


def measure(path: Path, repeat: int, registry: Any, policy: Any) -> tuple[float, str]:
    """Median seconds over ``repeat`` cold runs (after one untimed run), and the outcome."""
    outcome = validate(path, registry, policy)
    times = []
    for _ in range(repeat):
        clear_caches()
        start = time.perf_counter()
        validate(path, registry, policy)
        times.append(time.perf_counter() - start)
    return statistics.median(times), outcome


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per case (median); default 5")
    ap.add_argument("--only", default="", help="only cases whose name contains this")
    args = ap.parse_args()

    registry, policy = builtin()
    cases: list[Case] = [c for c in all_cases() if args.only in c.name]
    rows: list[tuple[str, str, str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        plain_time, plain_outcome = measure(PLAIN, args.repeat, registry, policy)
        plain_size = PLAIN.stat().st_size
        for i, case in enumerate(cases):
            path = case.write(Path(tmp) / str(i))
            seconds, outcome = measure(path, args.repeat, registry, policy)
            rows.append((case.name, case.expected, outcome, len(case.content), seconds))

    print(f"{'case':44} {'expected':>8} {'got':>8} {'bytes':>9} {'median ms':>10} {'us/KiB':>8}")
    for name, expected, outcome, size, seconds in rows:
        mark = "" if outcome == expected else "  <- unexpected outcome"
        per_kib = seconds * 1e6 / max(size / 1024, 1)
        print(f"{name:44} {expected:>8} {outcome:>8} {size:>9,} {seconds * 1e3:>10.2f} {per_kib:>8.0f}{mark}")
    print()
    worst = max(rows, key=lambda r: r[4])
    print(f"plain spec ({PLAIN.name}, {plain_size:,} bytes, {plain_outcome}): {plain_time * 1e3:.2f} ms")
    print(f"worst case ({worst[0]}, {worst[3]:,} bytes, {worst[2]}): {worst[4] * 1e3:.2f} ms")
    print(f"ratio worst / plain: {worst[4] / plain_time:.0f}x (input {worst[3] / plain_size:.0f}x larger)")
    per_kib = max(rows, key=lambda r: r[4] / max(r[3] / 1024, 1))
    print(
        f"most time per KiB: {per_kib[0]} ({per_kib[4] * 1e6 / max(per_kib[3] / 1024, 1):.0f} us/KiB; "
        f"plain spec {plain_time * 1e6 / max(plain_size / 1024, 1):.0f} us/KiB)"
    )
    return 0 if all(r[1] == r[2] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
