#!/usr/bin/env bash
# Run the whole test suite: lint (ruff, mypy), then pytest on Airflow 3.3 (unit + integration with a
# real Airflow and PostgreSQL started by the tests) and on Airflow 2.11 (unit tests, provider
# discovery, DAG parsing, and the 2.11 integration tests), plus the connection form and provider
# discovery on Airflow 3.1 (which builds the form from the hook's classic widget methods) and the
# Schedules pages and a spec deadline in a real Airflow 3.1.
#
#   dev/test.sh            everything
#   dev/test.sh --unit     unit tests only (seconds), both Airflow versions
#   dev/test.sh -- ARGS    extra arguments passed to pytest (e.g. -- -k hook)
#
# Integration tests need Debian's postgresql (and chromium + chromium-driver for the browser test);
# .ci/run installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

unit_only=0
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --unit) unit_only=1 ;;
    --) shift; pytest_args=("$@"); break ;;
    *) echo "usage: dev/test.sh [--unit] [-- PYTEST_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done

dev/setup-venvs.sh af33 af211 af31

echo ">>> lint: ruff check, ruff format --check, mypy" >&2
.venvs/af33/bin/ruff check .
.venvs/af33/bin/ruff format --check .
.venvs/af33/bin/mypy airflow_provider_scheduler

marker=()
[ "$unit_only" = 1 ] && marker=(-m "not integration")

status=0
echo ">>> pytest on Airflow 3.3" >&2
.venvs/af33/bin/python -m pytest "${marker[@]}" "${pytest_args[@]}" || status=$?
echo ">>> pytest on Airflow 2.11" >&2
.venvs/af211/bin/python -m pytest "${marker[@]}" "${pytest_args[@]}" || status=$?
echo ">>> pytest on Airflow 3.1 (connection form, provider discovery, the portal plugin, its API and pages, deadlines, approval)" >&2
# The approval template builds Airflow 3.1's ApprovalOperator (it waits by deferring there, not 3.3's way).
af31_tests=(tests/unit/test_provider_info.py tests/unit/hooks/test_hook_meta_service.py tests/unit/plugin
  tests/unit/factory/test_deadlines.py tests/unit/spec/test_deadline.py tests/unit/templates/test_optional_templates.py)
# The Schedules pages in a real Airflow 3.1 and headless Chromium (the UI that hosts them differs).
# A spec deadline on a real 3.1 (its deadline callbacks run through another trigger than 3.3's).
[ "$unit_only" = 1 ] || af31_tests+=(tests/integration/portal tests/integration/factory/test_deadline_e2e.py)
.venvs/af31/bin/python -m pytest "${af31_tests[@]}" || status=$?
# pytest exits 5 when it collected no test: that is a failure here, like any other non-zero exit.
exit "$status"
