// Pure helpers of the Schedules pages: no React, no DOM, no network (so `node --test` can run them).
//
// - toYaml: a spec as readable YAML (what `airflow-scheduler export` shows), for display only.
// - lineDiff / unifiedHunks: a line diff between two texts, for the revision diff.
// - parseJsonWithPaths: JSON.parse that also says where each value starts and where a syntax error is,
//   so a problem at `tasks[1].depends_on[0]` can be shown at its line.
// - schemaProblems: the subset of JSON Schema (draft 2020-12) the published spec schema uses, for
//   instant feedback while the server's validate is on its way.
// - joinPath / statusOf / formatters.

/** A JSON path the way the server prints it: `tasks[1].depends_on[0]` ("" is the root). */
export function joinPath(base, key) {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : String(key);
}

// ------------------------------------------------------------------------------------------------
// YAML (display only; the editor works on JSON)
const YAML_RESERVED = /^(?:true|false|yes|no|on|off|null|~|y|n)$/i;
const YAML_PLAIN = /^[A-Za-z_./@][A-Za-z0-9 _./@+-]*$/;

function yamlScalar(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  const text = String(value);
  if (text === "" || YAML_RESERVED.test(text) || !YAML_PLAIN.test(text) || text.endsWith(" ")) {
    return JSON.stringify(text); // a JSON string is a valid YAML double-quoted scalar
  }
  return text;
}

function yamlKey(key) {
  return YAML_PLAIN.test(key) && !YAML_RESERVED.test(key) ? key : JSON.stringify(key);
}

function isScalar(value) {
  return value === null || typeof value !== "object";
}

/** Readable YAML of a JSON value, keys in their order (like the CLI's export). */
export function toYaml(value, indent = 0) {
  const pad = " ".repeat(indent);
  if (isScalar(value)) return `${pad}${yamlScalar(value)}\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (isScalar(item)) return `${pad}- ${yamlScalar(item)}\n`;
        if (Array.isArray(item) ? item.length === 0 : Object.keys(item).length === 0) {
          return `${pad}- ${Array.isArray(item) ? "[]" : "{}"}\n`;
        }
        const inner = toYaml(item, indent + 2);
        return `${pad}- ${inner.slice(indent + 2)}`;
      })
      .join("");
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return `${pad}{}\n`;
  return keys
    .map((key) => {
      const item = value[key];
      const head = `${pad}${yamlKey(key)}:`;
      if (isScalar(item)) return `${head} ${yamlScalar(item)}\n`;
      if (Array.isArray(item) ? item.length === 0 : Object.keys(item).length === 0) {
        return `${head} ${Array.isArray(item) ? "[]" : "{}"}\n`;
      }
      return `${head}\n${toYaml(item, Array.isArray(item) ? indent : indent + 2)}`;
    })
    .join("");
}

// ------------------------------------------------------------------------------------------------
// Line diff (LCS; specs are small)

/** The lines of `a` and `b` as [op, line] with op " " (both), "-" (only a), "+" (only b). */
export function lineDiff(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  if (x[x.length - 1] === "") x.pop();
  if (y[y.length - 1] === "") y.pop();
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push([" ", x[i]]);
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push(["-", x[i]]);
      i += 1;
    } else {
      out.push(["+", y[j]]);
      j += 1;
    }
  }
  while (i < n) out.push(["-", x[i++]]);
  while (j < m) out.push(["+", y[j++]]);
  return out;
}

/** The diff's changed lines with `context` unchanged lines around them; "…" rows mark skipped lines. */
export function unifiedHunks(diff, context = 3) {
  const keep = new Array(diff.length).fill(false);
  diff.forEach(([op], index) => {
    if (op === " ") return;
    for (let k = Math.max(0, index - context); k <= Math.min(diff.length - 1, index + context); k += 1) {
      keep[k] = true;
    }
  });
  const out = [];
  let skipped = false;
  diff.forEach((row, index) => {
    if (keep[index]) {
      out.push(row);
      skipped = false;
    } else if (!skipped) {
      out.push(["…", ""]);
      skipped = true;
    }
  });
  return out;
}

// ------------------------------------------------------------------------------------------------
// JSON with positions

/** Line and column (1-based) of a character offset in `text`. */
export function lineColumn(text, offset) {
  let line = 1;
  let last = -1;
  for (let k = 0; k < offset && k < text.length; k += 1) {
    if (text[k] === "\n") {
      line += 1;
      last = k;
    }
  }
  return { line, column: offset - last };
}

class JsonSyntaxError extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
}

/**
 * Parse JSON text; return {value, positions, ends} (Maps: path -> offset where the value starts / ends)
 * or {error: {message, offset, line, column}}.
 * Duplicate keys are a syntax problem here (JSON.parse would silently keep the last one).
 */
export function parseJsonWithPaths(text) {
  const positions = new Map();
  const ends = new Map();
  let pos = 0;
  const ws = () => {
    while (pos < text.length && " \t\r\n".includes(text[pos])) pos += 1;
  };
  const fail = (message) => {
    throw new JsonSyntaxError(message, pos);
  };
  const expect = (char) => {
    if (text[pos] !== char) fail(`expected '${char}' but found ${describe()}`);
    pos += 1;
  };
  const describe = () => (pos >= text.length ? "the end of the text" : `'${text[pos]}'`);
  const parseString = () => {
    const start = pos;
    expect('"');
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === "\\") pos += 1;
      else if (text[pos] === "\n") fail("a string must not span lines (missing closing quote?)");
      pos += 1;
    }
    if (pos >= text.length) {
      pos = start;
      fail("string is not closed (missing '\"')");
    }
    pos += 1;
    try {
      return JSON.parse(text.slice(start, pos));
    } catch {
      pos = start;
      return fail("invalid escape in string");
    }
  };
  const parseValue = (path) => {
    ws();
    positions.set(path, pos);
    const value = parseAt(path);
    ends.set(path, pos);
    return value;
  };
  const parseAt = (path) => {
    const char = text[pos];
    if (char === "{") {
      pos += 1;
      const result = {};
      ws();
      if (text[pos] === "}") {
        pos += 1;
        return result;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail(`expected a quoted key but found ${describe()}`);
        const keyStart = pos;
        const key = parseString();
        if (Object.prototype.hasOwnProperty.call(result, key)) {
          pos = keyStart;
          fail(`duplicate key "${key}"`);
        }
        ws();
        expect(":");
        result[key] = parseValue(joinPath(path, key));
        ws();
        if (text[pos] === ",") {
          pos += 1;
          ws();
          if (text[pos] === "}") fail("trailing comma before '}'");
          continue;
        }
        if (text[pos] === "}") {
          pos += 1;
          return result;
        }
        fail(`expected ',' or '}' but found ${describe()}`);
      }
    }
    if (char === "[") {
      pos += 1;
      const result = [];
      ws();
      if (text[pos] === "]") {
        pos += 1;
        return result;
      }
      for (;;) {
        result.push(parseValue(joinPath(path, result.length)));
        ws();
        if (text[pos] === ",") {
          pos += 1;
          ws();
          if (text[pos] === "]") fail("trailing comma before ']'");
          continue;
        }
        if (text[pos] === "]") {
          pos += 1;
          return result;
        }
        fail(`expected ',' or ']' but found ${describe()}`);
      }
    }
    if (char === '"') return parseString();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(pos));
    if (!literal) fail(`unexpected ${describe()}`);
    pos += literal[0].length;
    return JSON.parse(literal[0]);
  };
  try {
    const value = parseValue("");
    ws();
    if (pos < text.length) fail(`unexpected ${describe()} after the end of the spec`);
    return { value, positions, ends };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { error: { message: err.message, offset: err.offset, ...lineColumn(text, err.offset) } };
  }
}

/** The offset where the value at `path` starts, or of its nearest parent that exists. */
export function offsetOfPath(positions, path) {
  let current = path;
  for (;;) {
    if (positions.has(current)) return positions.get(current);
    if (!current) return 0;
    const cut = Math.max(current.lastIndexOf("."), current.lastIndexOf("["));
    current = cut > 0 ? current.slice(0, cut) : "";
  }
}

// ------------------------------------------------------------------------------------------------
// JSON Schema, the subset the spec schema uses

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected, value) {
  const actual = typeOf(value);
  return expected === actual || (expected === "number" && actual === "integer");
}

function resolveRef(root, ref) {
  if (!ref.startsWith("#/")) return {};
  return ref
    .slice(2)
    .split("/")
    .reduce((node, part) => (node ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), root) || {};
}

/**
 * Problems of `value` against `schema` as [{path, message}]; `root` resolves `#/$defs/...` refs.
 * Unknown keywords are ignored: the server's validate is the authority, this is the fast first look.
 */
export function schemaProblems(schema, value) {
  return checkSchema(schema, value, "", schema).map(({ path, message }) => ({ path, message }));
}

function checkSchema(schema, value, path, root) {
  if (schema === true || schema === undefined || schema === null) return [];
  if (schema === false) return [{ path, message: "not allowed here" }];
  if (schema.$ref) {
    return checkSchema(resolveRef(root, schema.$ref), value, path, root).concat(
      checkSchema({ ...schema, $ref: undefined }, value, path, root),
    );
  }
  const problems = [];
  const add = (message, at = path) => problems.push({ path: at, message });
  if (schema.anyOf || schema.oneOf) {
    const branches = schema.anyOf || schema.oneOf;
    const results = branches.map((branch) => checkSchema(branch, value, path, root));
    if (!results.some((r) => r.length === 0)) {
      // The branch with the fewest problems is usually the one the author meant.
      // The branches whose type fits are the forms the author meant; one such branch: its problems.
      const fitting = results.filter((r) => !r.some((p) => p.path === path && p.wrongType));
      if (fitting.length === 1) problems.push(...fitting[0]);
      else add("does not match any allowed form");
    }
  }
  if (schema.allOf) schema.allOf.forEach((s) => problems.push(...checkSchema(s, value, path, root)));
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, value))) {
      problems.push({ path, message: `must be ${types.join(" or ")}, not ${typeOf(value)}`, wrongType: true });
      return problems;
    }
  }
  if (schema.const !== undefined && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    add(`must be ${JSON.stringify(schema.const)}`);
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    add(`must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      add(`must have at least ${schema.minLength} character(s)`);
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      add(`must have at most ${schema.maxLength} characters`);
    }
    if (schema.pattern !== undefined) {
      let re = null;
      try {
        re = new RegExp(schema.pattern, "u");
      } catch {
        re = null; // a pattern JavaScript cannot read: leave it to the server
      }
      if (re && !re.test(value)) add(`${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) add(`must be at least ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) add(`must be at most ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      add(`must have at least ${schema.minItems} item(s)`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      add(`must have at most ${schema.maxItems} items`);
    }
    if (schema.items !== undefined) {
      value.forEach((item, k) => problems.push(...checkSchema(schema.items, item, joinPath(path, k), root)));
    }
  }
  if (typeOf(value) === "object") {
    (schema.required || []).forEach((key) => {
      if (!(key in value)) add(`'${key}' is required`);
    });
    const props = schema.properties || {};
    Object.keys(value).forEach((key) => {
      const at = joinPath(path, key);
      if (key in props) problems.push(...checkSchema(props[key], value[key], at, root));
      else if (schema.additionalProperties === false) {
        const known = Object.keys(props);
        const close = closest(key, known);
        add(`unknown key '${key}'${close ? ` (did you mean '${close}'?)` : ""}`, at);
      } else if (typeof schema.additionalProperties === "object") {
        problems.push(...checkSchema(schema.additionalProperties, value[key], at, root));
      }
    });
  }
  return problems;
}

function editDistance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i += 1) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const old = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = old;
    }
  }
  return row[b.length];
}

/** The known name closest to `name` (at most 2 edits away), or null. */
export function closest(name, known) {
  let best = null;
  let bestDistance = 3;
  known.forEach((candidate) => {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  });
  return best;
}

// ------------------------------------------------------------------------------------------------
// Reading the API's answers

/** The first defined value among `names` of `obj` (answers name some fields in more than one way). */
export function pick(obj, ...names) {
  if (!obj) return undefined;
  for (const name of names) {
    const value = name.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** A list out of an answer that is either a list or an object holding one under one of `keys`. */
export function listOf(answer, ...keys) {
  if (Array.isArray(answer)) return answer;
  for (const key of keys) if (answer && Array.isArray(answer[key])) return answer[key];
  return [];
}

/**
 * What the loader did with a spec, as {label, tone, reason}: loaded / failed / dropped / paused /
 * pending (stored, not yet parsed) / deleted.
 */
export function statusOf(item) {
  if (!item) return { label: "unknown", tone: "gray", reason: "" };
  const raw = item.status;
  let label = typeof raw === "string" ? raw : pick(raw, "state", "status") || "";
  let reason = pick(item, "status_reason", "reason", "status.reason", "status.message", "error") || "";
  if (typeof reason !== "string") reason = JSON.stringify(reason);
  if (item.deleted) label = "deleted";
  label = String(label || (item.paused ? "paused" : "pending")).toLowerCase();
  const tone =
    { loaded: "green", ok: "green", failed: "red", error: "red", dropped: "orange", paused: "gray" }[label] ||
    "gray";
  return { label, tone, reason };
}

/** The tone of an Airflow run state's badge. */
export function runStateTone(state) {
  return (
    {
      success: "green",
      failed: "red",
      running: "blue",
      queued: "gray",
      upstream_failed: "orange",
      skipped: "pink",
    }[state] || "gray"
  );
}

/** A timestamp as the reader's local time, short; "" for nothing. */
export function formatTime(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** A readable message out of an error answer of any of the API's or FastAPI's shapes. */
export function errorText(status, data) {
  const detail = pick(data, "error.detail", "detail", "message", "title", "error.title", "error");
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => (d && d.msg ? `${(d.loc || []).slice(1).join(".") || "body"}: ${d.msg}` : JSON.stringify(d)))
      .join("; ");
  }
  if (detail) return JSON.stringify(detail);
  return `HTTP ${status}`;
}

/** The problems of a 422 answer or a validate answer, as [{path, message}]. */
export function problemsOf(data) {
  let list = listOf(data, "problems");
  if (list.length === 0) list = listOf(pick(data, "error", "detail"), "problems");
  return list.map((p) => ({ path: p.path || "", message: p.message || String(p) }));
}

/** What a conflict answer says: the revision the change expected and the current one. */
export function conflictOf(data) {
  return {
    expected: pick(data, "expected_revision", "error.expected_revision", "detail.expected_revision"),
    current: pick(data, "current_revision", "error.current_revision", "detail.current_revision"),
    message: errorText(409, data),
  };
}

// ------------------------------------------------------------------------------------------------
// Examples for "new spec from an example"

/**
 * Example specs for a namespace. `templates` (from the namespace's schema, when known) removes the
 * examples whose templates that team may not use.
 */
export function examples(namespace, templates) {
  const ns = namespace || "my-team";
  const today = new Date().toISOString().slice(0, 10);
  const all = [
    {
      key: "manual",
      title: "Manual run: two steps",
      spec: {
        version: 1,
        namespace: ns,
        name: "my-schedule",
        description: "Runs when someone triggers it.",
        schedule: null,
        tasks: [
          { id: "start", template: "empty" },
          { id: "finish", template: "empty", depends_on: ["start"] },
        ],
      },
    },
    {
      key: "weekday",
      title: "Weekday mornings, with a parameter",
      spec: {
        version: 1,
        namespace: ns,
        name: "weekday-report",
        description: "Every weekday at 06:00 (Berlin time).",
        schedule: { cron: "0 6 * * 1-5", timezone: "Europe/Berlin" },
        start_date: today,
        catchup: false,
        params: { region: { type: "string", enum: ["eu", "us"], default: "eu" } },
        defaults: { retries: 2, retry_delay: "PT5M" },
        tasks: [
          { id: "start", template: "empty" },
          {
            id: "build-report",
            template: "trigger_dag",
            with: { dag_id: "report_template", conf: { region: "{{ params.region }}" } },
            depends_on: ["start"],
          },
        ],
      },
    },
    {
      key: "http",
      title: "Every 4 hours: call an HTTP endpoint",
      spec: {
        version: 1,
        namespace: ns,
        name: "refresh-cache",
        schedule: { every: "PT4H" },
        start_date: today,
        tasks: [{ id: "refresh", template: "http_request", with: { endpoint: "/cache/refresh", method: "POST" } }],
      },
    },
  ];
  if (!templates || templates.length === 0) return all;
  return all.filter((example) => example.spec.tasks.every((task) => templates.includes(task.template)));
}

/** The task template names a namespace's JSON Schema allows (empty when the schema does not say). */
export function templatesInSchema(schema) {
  const found = new Set();
  const visit = (node) => {
    if (!node || typeof node !== "object") return;
    if (node.properties && node.properties.template) {
      const t = node.properties.template;
      // NAME@VERSION entries (a pinned template version) name the same template as NAME
      const add = (name) => typeof name === "string" && found.add(name.replace(/@\d+$/, ""));
      (t.enum || []).forEach(add);
      add(t.const);
    }
    Object.values(node).forEach(visit);
  };
  visit(schema && schema.$defs && (schema.$defs.task || schema.$defs.tasks) ? schema.$defs : schema);
  return [...found].sort();
}

/** A run's conf from the trigger form's fields and the spec's params; [conf, problems]. */
export function confFromForm(params, values) {
  const conf = {};
  const problems = [];
  Object.entries(params || {}).forEach(([name, param]) => {
    const raw = values[name];
    const type = Array.isArray(param.type) ? param.type.find((t) => t !== "null") : param.type;
    if (raw === undefined || raw === "") {
      if (param.default === undefined) problems.push({ path: name, message: "a value is required" });
      return;
    }
    if (type === "integer" || type === "number") {
      const number = Number(raw);
      if (Number.isNaN(number) || (type === "integer" && !Number.isInteger(number))) {
        problems.push({ path: name, message: `must be ${type === "integer" ? "a whole number" : "a number"}` });
      } else conf[name] = number;
    } else if (type === "boolean") {
      conf[name] = raw === true || raw === "true";
    } else if (type === "object" || type === "array") {
      try {
        conf[name] = typeof raw === "string" ? JSON.parse(raw) : raw;
      } catch {
        problems.push({ path: name, message: `must be JSON (${type})` });
      }
    } else {
      conf[name] = String(raw);
    }
  });
  return [conf, problems];
}
