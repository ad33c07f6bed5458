"""The Airflow REST API protocol without I/O: errors, connection settings, decisions, endpoints.

The sync hook (``requests``) and the async client (``aiohttp``) are thin transports that drive
:mod:`~airflow_provider_scheduler.rest.core`. This package's ``__init__`` imports nothing, so
``get_provider_info`` may import :mod:`~airflow_provider_scheduler.rest.connection_fields` while
Airflow's configuration initialises.
"""
