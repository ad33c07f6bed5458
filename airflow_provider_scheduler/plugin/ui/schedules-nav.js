// The "Schedules" page in Airflow's navigation. One entry module per react_apps entry: Airflow caches
// the component by the entry's name after importing its bundle_url, so two entries must not share a URL.
import { SchedulesPage } from "./schedules.js";

globalThis.AirflowPlugin = SchedulesPage;
