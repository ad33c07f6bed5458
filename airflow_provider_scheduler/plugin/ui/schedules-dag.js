// The "Schedule spec" tab on every DAG's page (react_apps destination "dag"): Airflow passes the
// route's dagId as a prop. See schedules-nav.js for why each entry has a module of its own.
import { SpecTab } from "./schedules.js";

globalThis.AirflowPlugin = SpecTab;
