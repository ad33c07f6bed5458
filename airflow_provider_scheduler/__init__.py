"""Airflow provider that turns validated schedule specs into Airflow DAGs.

This module must stay free of Airflow imports: Airflow imports it while its own
configuration is initialising (provider discovery).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
