-- The spec store lives in its own database next to Airflow's metadata database.
CREATE DATABASE schedule_specs OWNER airflow;
