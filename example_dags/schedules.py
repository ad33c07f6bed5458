# Airflow DAGs from schedule specs (airflow-provider-scheduler)
from airflow_provider_scheduler.factory import load_schedules

load_schedules(globals())
