#!/usr/bin/env bash
# Start the demo: prepares .venvs/af33 (Airflow 3.3.2 + this provider) on first use, then runs a
# real Airflow on 127.0.0.1 with example_dags/ and the example specs in an embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
dev/setup-venvs.sh af33
exec .venvs/af33/bin/python dev/demo.py
