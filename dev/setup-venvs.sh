#!/usr/bin/env bash
# Create (or refresh) the virtualenvs the tests and the demo use:
#   .venvs/af33  -> Airflow 3.3.2 (primary; demo, full test suite)
#   .venvs/af211 -> Airflow 2.11.x (unit tests, provider discovery, DAG parsing)
#   .venvs/af31  -> Airflow 3.1.x (the connection form, which 3.1 builds from the classic widgets)
# Each gets this provider installed in editable mode with its test and lint extras; af33 also gets
# test-providers (the Spark and Slack providers), so the others test those templates' absence.
# Usage: dev/setup-venvs.sh [af33] [af211] [af31]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

AIRFLOW_33="3.3.2"
AIRFLOW_211="2.11.2"
AIRFLOW_31="3.1.8"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python >= 3.11 needed, found %s" % sys.version' 

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(af33 af211 af31)

for name in "${want[@]}"; do
  case "$name" in
    af33) airflow_version="$AIRFLOW_33" ;;
    af211) airflow_version="$AIRFLOW_211" ;;
    af31) airflow_version="$AIRFLOW_31" ;;
    *) echo "unknown venv $name (af33, af211 or af31)" >&2; exit 2 ;;
  esac
  extras="test,lint"
  if [ "$name" = af33 ]; then extras="test,lint,test-providers"; fi
  venv=".venvs/$name"
  stamp="$venv/.installed-$airflow_version-$(sha1sum pyproject.toml | cut -c1-12)"
  if [ -f "$stamp" ]; then
    continue
  fi
  echo ">>> preparing $venv (apache-airflow==$airflow_version)" >&2
  [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -m pip install --quiet "apache-airflow==$airflow_version" -e ".[$extras]" 2>&1 \
    | grep -v "^WARNING: Location" || true
  # The editable build leaves an .egg-info in the checkout; with the checkout on sys.path (PYTHONPATH,
  # the tests' subprocesses) Airflow would see the distribution twice and load its plugin twice.
  rm -rf ./*.egg-info
  "$venv/bin/python" -c "import airflow, airflow_provider_scheduler; assert airflow.__version__ == '$airflow_version', airflow.__version__"
  rm -f "$venv"/.installed-*
  touch "$stamp"
done
