// Unit tests of the Schedules pages' pure helpers (run by tests/unit/plugin/test_ui_js.py with `node --test`).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  closest,
  confFromForm,
  conflictOf,
  errorText,
  examples,
  lineDiff,
  offsetOfPath,
  parseJsonWithPaths,
  problemsOf,
  schemaProblems,
  statusOf,
  templatesInSchema,
  toYaml,
  unifiedHunks,
} from "../../../../airflow_provider_scheduler/plugin/ui/schedules-core.js";

test("toYaml: nested spec, quoting of ambiguous scalars", () => {
  const yaml = toYaml({
    version: 1,
    name: "daily",
    paused: false,
    start_date: "2026-01-01",
    schedule: { cron: "0 6 * * 1-5", timezone: "Europe/Berlin" },
    tags: [],
    note: "yes",
    tasks: [{ id: "a", template: "empty", depends_on: ["b"] }, { id: "b", with: {} }],
  });
  assert.equal(
    yaml,
    [
      "version: 1",
      "name: daily",
      "paused: false",
      'start_date: "2026-01-01"',
      "schedule:",
      '  cron: "0 6 * * 1-5"',
      "  timezone: Europe/Berlin",
      "tags: []",
      'note: "yes"',
      "tasks:",
      "- id: a",
      "  template: empty",
      "  depends_on:",
      "  - b",
      "- id: b",
      "  with: {}",
      "",
    ].join("\n"),
  );
});

test("lineDiff and unifiedHunks: changed lines with context, skipped runs marked", () => {
  const before = ["a", "b", "c", "d", "e", "f", "g", "h", "i"].join("\n");
  const after = ["a", "b", "c", "d", "E", "f", "g", "h", "i"].join("\n");
  const diff = lineDiff(before, after);
  assert.deepEqual(
    diff.filter(([op]) => op !== " "),
    [
      ["-", "e"],
      ["+", "E"],
    ],
  );
  const hunks = unifiedHunks(diff, 1);
  assert.deepEqual(hunks, [["…", ""], [" ", "d"], ["-", "e"], ["+", "E"], [" ", "f"], ["…", ""]]);
  assert.deepEqual(lineDiff("x\n", "x\n"), [[" ", "x"]]);
});

test("parseJsonWithPaths: positions of values by the server's path syntax", () => {
  const text = '{\n  "tasks": [\n    {"id": "a"},\n    {"id": "b", "depends_on": ["lod"]}\n  ]\n}';
  const { value, positions, error } = parseJsonWithPaths(text);
  assert.equal(error, undefined);
  assert.deepEqual(value.tasks[1].depends_on, ["lod"]);
  assert.equal(text.slice(positions.get("tasks[1].depends_on[0]")).slice(0, 5), '"lod"');
  const { ends } = parseJsonWithPaths(text);
  assert.equal(text.slice(positions.get("tasks[1].depends_on[0]"), ends.get("tasks[1].depends_on[0]")), '"lod"');
  assert.equal(text.slice(positions.get("tasks[0]"), ends.get("tasks[0]")), '{"id": "a"}');
  // An unknown path falls back to its nearest existing parent.
  assert.equal(offsetOfPath(positions, "tasks[1].with.x"), positions.get("tasks[1]"));
  assert.equal(offsetOfPath(positions, "nothing.here"), 0);
});

test("parseJsonWithPaths: syntax errors say where", () => {
  const trailing = parseJsonWithPaths('{\n  "a": 1,\n}');
  assert.equal(trailing.error.line, 3);
  assert.match(trailing.error.message, /trailing comma/);
  const duplicate = parseJsonWithPaths('{"a": 1, "a": 2}');
  assert.match(duplicate.error.message, /duplicate key "a"/);
  const open = parseJsonWithPaths('{"a": "x');
  assert.match(open.error.message, /not closed/);
  assert.match(parseJsonWithPaths("{} x").error.message, /after the end/);
  assert.deepEqual(parseJsonWithPaths('{"a": [1, 2.5e3, true, null, "\\u00e9"]}').value, { a: [1, 2500, true, null, "é"] });
});

test("schemaProblems: unknown keys with a suggestion, types, enums, refs, patterns, required", () => {
  const schema = {
    type: "object",
    additionalProperties: false,
    required: ["name", "tasks"],
    properties: {
      name: { type: "string", pattern: "^[a-z-]+$" },
      schedule: { anyOf: [{ type: "string" }, { type: "null" }, { $ref: "#/$defs/cron" }] },
      tasks: { type: "array", minItems: 1, items: { $ref: "#/$defs/task" } },
    },
    $defs: {
      cron: { type: "object", additionalProperties: false, properties: { cron: { type: "string" } } },
      task: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: { type: "string" }, template: { enum: ["empty", "python"] } },
      },
    },
  };
  assert.deepEqual(schemaProblems(schema, { name: "ok", tasks: [{ id: "a" }] }), []);
  assert.deepEqual(schemaProblems(schema, { name: "Bad Name", shedule: "x", tasks: [{ template: "bash" }] }), [
    { path: "name", message: '"Bad Name" does not match ^[a-z-]+$' },
    { path: "shedule", message: "unknown key 'shedule' (did you mean 'schedule'?)" },
    { path: "tasks[0]", message: "'id' is required" },
    { path: "tasks[0].template", message: 'must be one of "empty", "python"' },
  ]);
  assert.deepEqual(schemaProblems(schema, { name: "a" }), [{ path: "", message: "'tasks' is required" }]);
  assert.deepEqual(schemaProblems(schema, { name: "a", tasks: [], schedule: { cronn: "x" } }), [
    { path: "tasks", message: "must have at least 1 item(s)" },
    { path: "schedule.cronn", message: "unknown key 'cronn' (did you mean 'cron'?)" },
  ]);
  assert.deepEqual(schemaProblems(schema, { name: "a", tasks: [{ id: "a" }], schedule: 5 }), [
    { path: "schedule", message: "does not match any allowed form" },
  ]);
  assert.deepEqual(schemaProblems(schema, 5), [{ path: "", message: "must be object, not integer" }]);
});

test("closest: only near names", () => {
  assert.equal(closest("lod", ["load", "report"]), "load");
  assert.equal(closest("xyz", ["load", "report"]), null);
});

test("statusOf: the loader's verdicts, as strings or objects", () => {
  assert.deepEqual(statusOf({ status: "loaded" }), { label: "loaded", tone: "green", reason: "" });
  assert.deepEqual(statusOf({ status: { state: "failed", reason: "tasks[0]: boom" } }), {
    label: "failed",
    tone: "red",
    reason: "tasks[0]: boom",
  });
  assert.equal(statusOf({ paused: true }).label, "paused");
  assert.equal(statusOf({ status: "loaded", deleted: true }).label, "deleted");
  assert.equal(statusOf({}).label, "pending");
});

test("errorText, problemsOf, conflictOf: the API's and FastAPI's error shapes", () => {
  assert.equal(errorText(404, { detail: "no spec x.y" }), "no spec x.y");
  assert.equal(errorText(403, { error: { status: 403, detail: "not yours" } }), "not yours");
  assert.equal(errorText(422, { detail: [{ loc: ["body", "spec"], msg: "field required" }] }), "spec: field required");
  assert.equal(errorText(500, null), "HTTP 500");
  assert.deepEqual(problemsOf({ problems: [{ path: "tasks[1].depends_on[0]", message: "unknown task 'lod'" }] }), [
    { path: "tasks[1].depends_on[0]", message: "unknown task 'lod'" },
  ]);
  assert.deepEqual(problemsOf({ error: { problems: [{ path: "", message: "m" }] } }), [{ path: "", message: "m" }]);
  assert.deepEqual(problemsOf({ problems: [] }), []);
  assert.deepEqual(conflictOf({ detail: "conflict", expected_revision: 1, current_revision: 2 }), {
    expected: 1,
    current: 2,
    message: "conflict",
  });
});

test("examples: filtered by the namespace's templates; templatesInSchema reads them", () => {
  const schema = {
    $defs: {
      task: { properties: { template: { enum: ["empty", "python"] } } },
    },
  };
  assert.deepEqual(templatesInSchema(schema), ["empty", "python"]);
  const list = examples("analytics", templatesInSchema(schema));
  assert.deepEqual(list.map((e) => e.key), ["manual"]);
  assert.equal(list[0].spec.namespace, "analytics");
  assert.equal(examples("qa", null).length, 3);
});

test("templatesInSchema: a pinned version (NAME@VERSION) counts as its template", () => {
  const schema = {
    $defs: {
      task: { properties: { template: { enum: ["empty", "http_request", "empty@1", "http_request@1", "http_request@2"] } } },
    },
  };
  assert.deepEqual(templatesInSchema(schema), ["empty", "http_request"]);
});

test("confFromForm: typed values, defaults, problems by param name", () => {
  const params = {
    region: { type: "string", enum: ["eu", "us"], default: "eu" },
    days: { type: "integer", default: 1 },
    dry: { type: "boolean", default: false },
    extra: { type: "object" },
  };
  assert.deepEqual(confFromForm(params, { region: "us", days: "3", dry: true, extra: '{"a": 1}' }), [
    { region: "us", days: 3, dry: true, extra: { a: 1 } },
    [],
  ]);
  const [, problems] = confFromForm(params, { region: "", days: "1.5", dry: false, extra: "" });
  assert.deepEqual(problems, [
    { path: "days", message: "must be a whole number" },
    { path: "extra", message: "a value is required" },
  ]);
});
