// The Schedules pages inside Airflow's UI (Airflow 3.1+ `react_apps`).
//
// A plain ES module, no build step: React, React Router and Chakra UI are the host page's own
// (globalThis.React, globalThis.ReactRouterDOM, globalThis.ChakraUI), so the pages render inside
// Airflow's React tree with Airflow's theme, light and dark. Airflow 3.1 does not expose Chakra UI;
// there the same components fall back to plain elements styled with the theme's CSS variables.
//
// Pages (url_route "schedules", under /plugin/schedules):
//   ""                    the specs the user may see: status, last run, next run, filter and search
//   "new"                 the editor for a new spec (from an example)
//   "spec/<id>"           one spec: spec, history, diff, runs, pause/resume/trigger/delete/roll back
//   "spec/<id>/edit"      the editor for a stored spec
// and SpecTab, the "Schedule spec" tab on every DAG's page.
//
// Everything goes through the Schedules API (/schedules/api/v1), signed in by Airflow's own cookie.

import {
  confFromForm,
  conflictOf,
  errorText,
  examples,
  formatTime,
  lineColumn,
  lineDiff,
  listOf,
  offsetOfPath,
  parseJsonWithPaths,
  pick,
  problemsOf,
  runStateTone,
  schemaProblems,
  statusOf,
  templatesInSchema,
  toYaml,
  unifiedHunks,
} from "./schedules-core.js";

const React = globalThis.React;
const Router = globalThis.ReactRouterDOM;
const C = globalThis.ChakraUI && globalThis.ChakraUI.Table ? globalThis.ChakraUI : null;
const h = React.createElement;
const { Fragment, useCallback, useEffect, useMemo, useRef, useState } = React;

const PAGE_ROOT = "/plugin/schedules";
const PAGE_SIZE = 50;

// ================================================================================================
// The API

class ApiError extends Error {
  constructor(status, data) {
    super(errorText(status, data));
    this.status = status;
    this.data = data;
  }
}

function apiUrl(path) {
  return new URL(`schedules/api/v1/${path}`, document.baseURI).href;
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(apiUrl(path), init);
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 500) };
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

const enc = encodeURIComponent;
const Api = {
  list: (query) => api("GET", `specs?${new URLSearchParams(query)}`),
  get: (id, revision) => api("GET", `specs/${enc(id)}${revision ? `?revision=${revision}` : ""}`),
  history: (id) => api("GET", `specs/${enc(id)}/history`),
  runs: (id) => api("GET", `specs/${enc(id)}/runs`),
  validate: (spec) => api("POST", "validate", spec),
  apply: (id, spec, expectedRevision) =>
    api("PUT", `specs/${enc(id)}`, { spec, expected_revision: expectedRevision }),
  pause: (id) => api("POST", `specs/${enc(id)}/pause`),
  resume: (id) => api("POST", `specs/${enc(id)}/resume`),
  remove: (id) => api("DELETE", `specs/${enc(id)}`),
  restore: (id) => api("POST", `specs/${enc(id)}/restore`),
  rollback: (id, revision) => api("POST", `specs/${enc(id)}/rollback`, { revision }),
  trigger: (id, conf) => api("POST", `specs/${enc(id)}/trigger`, { conf }),
  schema: (namespace) => api("GET", `schema${namespace ? `?namespace=${enc(namespace)}` : ""}`),
};

/** Load `fn()` now and whenever `deps` change; `reload()` loads again. */
function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Call `fn` every `ms` while `active` (runs appearing, a DAG being parsed). */
function useInterval(fn, ms, active) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

// ================================================================================================
// Components in Airflow's look: Chakra UI when the host has it, else plain elements on its CSS vars

const v = (token, fallback) => `var(--chakra-colors-${token}, ${fallback})`;
const TONE_FALLBACK = {
  green: ["#dcfce7", "#166534"],
  red: ["#fee2e2", "#991b1b"],
  orange: ["#ffedd5", "#9a3412"],
  blue: ["#dbeafe", "#1e40af"],
  pink: ["#fce7f3", "#9d174d"],
  gray: ["#f4f4f5", "#3f3f46"],
};

function Stack({ row, gap = 3, align, justify, wrap, testid, style, children }) {
  if (C) {
    return h(
      C.Stack,
      { direction: row ? "row" : "column", gap, align, justify, wrap: wrap ? "wrap" : undefined, "data-testid": testid, style },
      children,
    );
  }
  return h(
    "div",
    {
      "data-testid": testid,
      style: {
        display: "flex",
        flexDirection: row ? "row" : "column",
        gap: `${gap * 0.25}rem`,
        alignItems: align,
        justifyContent: justify,
        flexWrap: wrap ? "wrap" : undefined,
        ...style,
      },
    },
    children,
  );
}

function Heading({ size = "md", children }) {
  if (C) return h(C.Heading, { size }, children);
  const fontSize = { xl: "1.5rem", lg: "1.25rem", md: "1.1rem", sm: "1rem" }[size] || "1.1rem";
  return h("h2", { style: { fontSize, fontWeight: 600, margin: 0 } }, children);
}

function Text({ muted, size, mono, testid, children }) {
  const style = mono ? { fontFamily: "var(--chakra-fonts-mono, monospace)" } : undefined;
  if (C) {
    return h(C.Text, { color: muted ? "fg.muted" : undefined, fontSize: size, "data-testid": testid, style }, children);
  }
  return h(
    "p",
    {
      "data-testid": testid,
      style: { margin: 0, color: muted ? v("fg-muted", "#71717a") : undefined, fontSize: size === "sm" ? "0.875rem" : undefined, ...style },
    },
    children,
  );
}

function Button({ kind = "secondary", onClick, disabled, loading, testid, title, type = "button", children }) {
  if (C) {
    const props = {
      primary: { colorPalette: "blue", variant: "solid" },
      secondary: { variant: "outline" },
      danger: { colorPalette: "red", variant: "outline" },
      ghost: { variant: "ghost" },
    }[kind];
    return h(C.Button, { ...props, size: "sm", onClick, disabled, loading, title, type, "data-testid": testid }, children);
  }
  const colors = {
    primary: [v("blue-solid", "#2563eb"), v("blue-contrast", "#fff"), v("blue-solid", "#2563eb")],
    secondary: ["transparent", v("fg", "inherit"), v("border", "#d4d4d8")],
    danger: ["transparent", v("fg-error", "#b91c1c"), v("border-error", "#fca5a5")],
    ghost: ["transparent", v("fg", "inherit"), "transparent"],
  }[kind];
  return h(
    "button",
    {
      type,
      onClick,
      disabled: disabled || loading,
      title,
      "data-testid": testid,
      style: {
        background: colors[0],
        color: colors[1],
        border: `1px solid ${colors[2]}`,
        borderRadius: "var(--chakra-radii-l2, 0.375rem)",
        padding: "0.3rem 0.75rem",
        fontSize: "0.875rem",
        fontWeight: 500,
        cursor: disabled || loading ? "not-allowed" : "pointer",
        opacity: disabled || loading ? 0.6 : 1,
      },
    },
    loading ? "…" : children,
  );
}

const inputStyle = {
  background: v("bg", "transparent"),
  color: v("fg", "inherit"),
  border: `1px solid ${v("border", "#d4d4d8")}`,
  borderRadius: "var(--chakra-radii-l2, 0.375rem)",
  padding: "0.3rem 0.5rem",
  fontSize: "0.875rem",
};

function Input({ value, onChange, placeholder, name, type = "text", testid, width }) {
  const props = {
    value,
    onChange: (e) => onChange(type === "checkbox" ? e.target.checked : e.target.value),
    placeholder,
    name,
    type,
    "data-testid": testid,
    "aria-label": placeholder || name,
  };
  if (type === "checkbox") return h("input", { ...props, value: undefined, checked: !!value });
  if (C) return h(C.Input, { ...props, size: "sm", width });
  return h("input", { ...props, style: { ...inputStyle, width } });
}

function Select({ value, onChange, options, name, testid, width }) {
  const opts = options.map(([val, label]) => h("option", { key: String(val), value: val }, label));
  const props = { value, onChange: (e) => onChange(e.target.value), name, "data-testid": testid, "aria-label": name };
  if (C) {
    return h(C.NativeSelect.Root, { size: "sm", width: width || "auto" }, h(C.NativeSelect.Field, props, opts), h(C.NativeSelect.Indicator));
  }
  return h("select", { ...props, style: { ...inputStyle, width } }, opts);
}

function TextArea({ value, onChange, rows = 24, name, testid, areaRef, onSelect }) {
  const props = {
    value,
    onChange: (e) => onChange(e.target.value),
    rows,
    name,
    spellCheck: false,
    "data-testid": testid,
    "aria-label": name,
    ref: areaRef,
    onSelect,
    style: { fontFamily: "var(--chakra-fonts-mono, monospace)", fontSize: "0.85rem", lineHeight: 1.5, width: "100%", tabSize: 2 },
  };
  if (C) return h(C.Textarea, { ...props, size: "sm" });
  return h("textarea", { ...props, style: { ...inputStyle, ...props.style } });
}

function Badge({ tone = "gray", testid, title, children }) {
  if (C) return h(C.Badge, { colorPalette: tone, variant: "subtle", "data-testid": testid, title }, children);
  const [bg, fg] = TONE_FALLBACK[tone] || TONE_FALLBACK.gray;
  return h(
    "span",
    {
      "data-testid": testid,
      title,
      style: {
        background: v(`${tone}-subtle`, bg),
        color: v(`${tone}-fg`, fg),
        borderRadius: "var(--chakra-radii-l1, 0.25rem)",
        padding: "0.05rem 0.4rem",
        fontSize: "0.75rem",
        fontWeight: 500,
        whiteSpace: "nowrap",
      },
    },
    children,
  );
}

function Table({ columns, rows, testid, empty = "Nothing to show." }) {
  if (rows.length === 0) return h(Text, { muted: true, testid: testid && `${testid}-empty` }, empty);
  if (C) {
    return h(
      C.Table.Root,
      { size: "sm", variant: "line", "data-testid": testid },
      h(C.Table.Header, null, h(C.Table.Row, null, columns.map((c) => h(C.Table.ColumnHeader, { key: c }, c)))),
      h(
        C.Table.Body,
        null,
        rows.map((row) =>
          h(C.Table.Row, { key: row.key, "data-testid": row.testid }, row.cells.map((cell, k) => h(C.Table.Cell, { key: k }, cell))),
        ),
      ),
    );
  }
  const cellStyle = { borderBottom: `1px solid ${v("border", "#e4e4e7")}`, padding: "0.4rem 0.6rem", textAlign: "left", fontSize: "0.875rem" };
  return h(
    "table",
    { "data-testid": testid, style: { borderCollapse: "collapse", width: "100%" } },
    h("thead", null, h("tr", null, columns.map((c) => h("th", { key: c, style: { ...cellStyle, color: v("fg-muted", "#71717a") } }, c)))),
    h(
      "tbody",
      null,
      rows.map((row) => h("tr", { key: row.key, "data-testid": row.testid }, row.cells.map((cell, k) => h("td", { key: k, style: cellStyle }, cell)))),
    ),
  );
}

function Alert({ tone = "error", title, testid, children }) {
  if (C) {
    return h(
      C.Alert.Root,
      { status: tone, "data-testid": testid },
      h(C.Alert.Indicator),
      h(C.Alert.Content, null, title && h(C.Alert.Title, null, title), children && h(C.Alert.Description, null, children)),
    );
  }
  const palette = { error: "red", warning: "orange", success: "green", info: "blue" }[tone] || "gray";
  const [bg, fg] = TONE_FALLBACK[palette];
  return h(
    "div",
    {
      role: "alert",
      "data-testid": testid,
      style: { background: v(`${palette}-subtle`, bg), color: v(`${palette}-fg`, fg), borderRadius: "0.375rem", padding: "0.6rem 0.8rem" },
    },
    title && h("strong", { style: { display: "block" } }, title),
    children,
  );
}

function Card({ title, actions, testid, children }) {
  const head = (title || actions) && h(Stack, { row: true, justify: "space-between", align: "center" }, h(Heading, { size: "sm" }, title), actions);
  const body = h(Stack, { gap: 3 }, head, children);
  if (C) return h(C.Box, { borderWidth: "1px", borderRadius: "md", p: 4, "data-testid": testid }, body);
  return h("div", { "data-testid": testid, style: { border: `1px solid ${v("border", "#e4e4e7")}`, borderRadius: "0.5rem", padding: "1rem" } }, body);
}

function Pre({ testid, children }) {
  const style = {
    fontFamily: "var(--chakra-fonts-mono, monospace)",
    fontSize: "0.8rem",
    lineHeight: 1.5,
    background: v("bg-subtle", "#fafafa"),
    color: v("fg", "inherit"),
    border: `1px solid ${v("border", "#e4e4e7")}`,
    borderRadius: "0.375rem",
    padding: "0.75rem",
    margin: 0,
    overflowX: "auto",
    whiteSpace: "pre",
  };
  return h("pre", { "data-testid": testid, style }, children);
}

function Spinner() {
  return C ? h(C.Spinner, { size: "sm" }) : h(Text, { muted: true }, "Loading…");
}

function Link({ to, href, testid, children }) {
  const style = { color: v("fg-info", "#2563eb"), textDecoration: "underline", textUnderlineOffset: "2px" };
  if (href) return h("a", { href, style, "data-testid": testid }, children);
  return h(Router.Link, { to, style, "data-testid": testid }, children);
}

function Tabs({ tabs, current, onChange }) {
  return h(
    Stack,
    { row: true, gap: 1, wrap: true },
    tabs.map(([key, label]) =>
      h(Button, { key, kind: key === current ? "primary" : "ghost", onClick: () => onChange(key), testid: `tab-${key}` }, label),
    ),
  );
}

function Field({ label, hint, children }) {
  return h(
    "label",
    { style: { display: "flex", flexDirection: "column", gap: "0.25rem", fontSize: "0.875rem" } },
    h("span", { style: { fontWeight: 500 } }, label),
    children,
    hint && h("span", { style: { color: v("fg-muted", "#71717a"), fontSize: "0.8rem" } }, hint),
  );
}

function ErrorBox({ error, title = "Something went wrong" }) {
  if (!error) return null;
  return h(Alert, { tone: "error", title, testid: "error" }, error.message || String(error));
}

function StatusBadge({ item }) {
  const status = statusOf(item);
  return h(Badge, { tone: status.tone, title: status.reason || undefined, testid: "status" }, status.label);
}

function RunState({ state }) {
  if (!state) return h(Text, { muted: true, size: "sm" }, "none");
  return h(Badge, { tone: runStateTone(state), testid: "run-state" }, state);
}

function DiffView({ before, after, testid = "diff" }) {
  const rows = unifiedHunks(lineDiff(before, after));
  if (!rows.some(([op]) => op === "+" || op === "-")) return h(Text, { muted: true, testid }, "No differences.");
  const colors = {
    "+": [v("green-subtle", "#dcfce7"), v("green-fg", "#166534")],
    "-": [v("red-subtle", "#fee2e2"), v("red-fg", "#991b1b")],
  };
  return h(
    Pre,
    { testid },
    rows.map(([op, line], k) => {
      const [bg, fg] = colors[op] || ["transparent", op === "…" ? v("fg-muted", "#71717a") : "inherit"];
      return h("div", { key: k, style: { background: bg, color: fg }, "data-op": op }, op === "…" ? "…" : `${op} ${line}`);
    }),
  );
}

// ================================================================================================
// The list of specs

function SpecList() {
  const [text, setText] = useState("");
  const [namespace, setNamespace] = useState("");
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const query = useMemo(() => {
    const q = { limit: String(PAGE_SIZE), offset: String(offset) };
    if (text) q.q = text;
    if (namespace) q.namespace = namespace;
    if (status === "paused") q.paused = "true";
    else if (status) q.status = status;
    return q;
  }, [text, namespace, status, offset]);
  const { data, error, loading, reload } = useLoad(() => Api.list(query), [query]);
  useInterval(reload, 15000, true);
  const specs = listOf(data, "specs");
  const total = pick(data, "total_entries") ?? specs.length;
  // The server filters; the page filters again, so a filter the server does not know still works.
  const shown = specs.filter((item) => {
    const id = item.spec_id || "";
    if (namespace && !(item.namespace === namespace || id.startsWith(`${namespace}.`))) return false;
    if (status === "paused" && !item.paused) return false;
    if (status && status !== "paused" && statusOf(item).label !== status) return false;
    if (text) {
      const hay = [id, item.author, pick(item, "description", "spec.description")].join(" ").toLowerCase();
      if (!hay.includes(text.toLowerCase())) return false;
    }
    return true;
  });
  const namespaces = [...new Set(specs.map((item) => item.namespace || (item.spec_id || "").split(".")[0]))].sort();

  const rows = shown.map((item) => {
    const id = item.spec_id;
    const status = statusOf(item);
    return {
      key: id,
      testid: `spec-row-${id}`,
      cells: [
        h(Link, { to: `${PAGE_ROOT}/spec/${enc(id)}`, testid: `spec-link-${id}` }, id),
        h(Stack, { row: true, gap: 1, wrap: true }, h(StatusBadge, { item }), item.paused && status.label !== "paused" ? h(Badge, { tone: "gray" }, "paused") : null),
        h(RunState, { state: pick(item, "last_run_state", "last_run.state", "dag.last_run.state") }),
        formatTime(pick(item, "next_run", "next_dagrun", "next_run_at", "dag.next_run")) || "–",
        item.revision,
        item.author,
        formatTime(pick(item, "updated_at", "updated")),
      ],
    };
  });

  return h(
    Stack,
    { gap: 4, testid: "schedules-list" },
    h(
      Stack,
      { row: true, justify: "space-between", align: "center", wrap: true },
      h(Heading, { size: "lg" }, "Schedules"),
      h(Stack, { row: true, gap: 2 }, h(Button, { onClick: reload, testid: "refresh" }, "Refresh"), h(Router.Link, { to: `${PAGE_ROOT}/new` }, h(Button, { kind: "primary", testid: "new-spec" }, "New spec"))),
    ),
    h(
      Stack,
      { row: true, gap: 2, wrap: true, align: "center" },
      h(Input, { value: text, onChange: (t) => (setText(t), setOffset(0)), placeholder: "Search specs", name: "search", testid: "search", width: "18rem" }),
      h(Select, {
        value: namespace,
        onChange: (n) => (setNamespace(n), setOffset(0)),
        name: "namespace",
        testid: "filter-namespace",
        options: [["", "All namespaces"], ...namespaces.map((n) => [n, n])],
      }),
      h(Select, {
        value: status,
        onChange: (s) => (setStatus(s), setOffset(0)),
        name: "status",
        testid: "filter-status",
        options: [["", "Any status"], ["loaded", "Loaded"], ["failed", "Failed"], ["dropped", "Dropped"], ["paused", "Paused"]],
      }),
      loading && h(Spinner),
    ),
    h(ErrorBox, { error, title: "Could not list the specs" }),
    !error &&
      h(Table, {
        testid: "specs",
        columns: ["Spec", "Status", "Last run", "Next run", "Revision", "Author", "Updated"],
        rows,
        empty: specs.length ? "No spec matches the filter." : "No specs yet. Create one with “New spec”.",
      }),
    total > PAGE_SIZE &&
      h(
        Stack,
        { row: true, gap: 2, align: "center" },
        h(Button, { disabled: offset === 0, onClick: () => setOffset(Math.max(0, offset - PAGE_SIZE)) }, "Previous"),
        h(Text, { muted: true, size: "sm" }, `${offset + 1}–${Math.min(offset + PAGE_SIZE, total)} of ${total}`),
        h(Button, { disabled: offset + PAGE_SIZE >= total, onClick: () => setOffset(offset + PAGE_SIZE) }, "Next"),
      ),
  );
}

// ================================================================================================
// One spec

function TriggerForm({ spec, specId, onDone, onCancel }) {
  const params = (spec && spec.params) || {};
  const [values, setValues] = useState(() =>
    Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.default === undefined ? "" : typeof p.default === "object" ? JSON.stringify(p.default) : p.default])),
  );
  const [problems, setProblems] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async () => {
    const [conf, found] = confFromForm(params, values);
    setProblems(found);
    if (found.length) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await Api.trigger(specId, conf);
      onDone(answer);
    } catch (err) {
      setError(err);
      setProblems(problemsOf(err.data).map((p) => ({ ...p, path: p.path.replace(/^conf\.?/, "") })));
    } finally {
      setBusy(false);
    }
  };
  const field = (name, param) => {
    const type = Array.isArray(param.type) ? param.type.find((t) => t !== "null") : param.type;
    const set = (value) => setValues((all) => ({ ...all, [name]: value }));
    let input;
    if (param.enum) input = h(Select, { value: values[name], onChange: set, name: `param-${name}`, options: param.enum.map((e) => [e, String(e)]) });
    else if (type === "boolean") input = h(Input, { type: "checkbox", value: values[name] === true || values[name] === "true", onChange: set, name: `param-${name}` });
    else input = h(Input, { value: values[name], onChange: set, name: `param-${name}`, type: type === "integer" || type === "number" ? "number" : "text" });
    const problem = problems.find((p) => p.path === name);
    return h(Field, { key: name, label: name, hint: problem ? `⚠ ${problem.message}` : param.description }, input);
  };
  return h(
    Card,
    { title: "Trigger a run now", testid: "trigger-form" },
    Object.keys(params).length ? Object.entries(params).map(([name, param]) => field(name, param)) : h(Text, { muted: true }, "This spec has no params: the run starts with an empty conf."),
    h(ErrorBox, { error, title: "The run was not started" }),
    h(Stack, { row: true, gap: 2 }, h(Button, { kind: "primary", onClick: submit, loading: busy, testid: "trigger-submit" }, "Trigger"), h(Button, { kind: "ghost", onClick: onCancel }, "Cancel")),
  );
}

function HistoryTable({ specId, history, current, onView, onRollback, onCompare }) {
  const rows = history.map((entry) => {
    const revision = entry.revision;
    return {
      key: revision,
      testid: `history-${revision}`,
      cells: [
        revision,
        pick(entry, "action") || "",
        entry.author,
        formatTime(pick(entry, "updated_at", "created_at", "time")),
        h(
          Stack,
          { row: true, gap: 1 },
          h(Button, { kind: "ghost", onClick: () => onView(revision), testid: `view-${revision}` }, "View"),
          revision !== current && h(Button, { kind: "ghost", onClick: () => onCompare(revision), testid: `compare-${revision}` }, "Diff with current"),
          revision !== current && h(Button, { kind: "danger", onClick: () => onRollback(revision), testid: `rollback-${revision}` }, "Roll back to this"),
        ),
      ],
    };
  });
  return h(Table, { testid: `history-of-${specId}`, columns: ["Revision", "Change", "Author", "When", ""], rows, empty: "No history." });
}

function RevisionDiff({ specId, history, from, to, setFrom, setTo }) {
  const revisions = history.map((e) => e.revision).sort((a, b) => a - b);
  const { data, error, loading } = useLoad(
    () => (from && to ? Promise.all([Api.get(specId, from), Api.get(specId, to)]) : Promise.resolve(null)),
    [specId, from, to],
  );
  const options = revisions.map((r) => [String(r), `revision ${r}`]);
  return h(
    Stack,
    { gap: 3 },
    h(
      Stack,
      { row: true, gap: 2, align: "center" },
      h(Text, null, "From"),
      h(Select, { value: String(from || ""), onChange: (r) => setFrom(Number(r)), options, name: "diff-from", testid: "diff-from" }),
      h(Text, null, "to"),
      h(Select, { value: String(to || ""), onChange: (r) => setTo(Number(r)), options, name: "diff-to", testid: "diff-to" }),
      loading && h(Spinner),
    ),
    h(ErrorBox, { error, title: "Could not load the revisions" }),
    data && h(DiffView, { before: toYaml(data[0].spec || {}), after: toYaml(data[1].spec || {}) }),
  );
}

function RunsTable({ specId, runs }) {
  const rows = runs.map((run) => {
    const runId = pick(run, "dag_run_id", "run_id");
    return {
      key: runId,
      testid: `run-${runId}`,
      cells: [
        h(Link, { to: `/dags/${enc(specId)}/runs/${enc(runId)}` }, runId),
        h(RunState, { state: run.state }),
        formatTime(pick(run, "logical_date", "run_after")),
        formatTime(run.start_date),
        formatTime(run.end_date),
      ],
    };
  });
  return h(Table, { testid: "runs", columns: ["Run", "State", "Logical date / run after", "Started", "Ended"], rows, empty: "No runs yet." });
}

function SpecPage({ specId }) {
  const [tab, setTab] = useState("spec");
  const [viewRevision, setViewRevision] = useState(null);
  const [format, setFormat] = useState("yaml");
  const [confirm, setConfirm] = useState(null); // {label, action}
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [triggering, setTriggering] = useState(false);
  const [diffFrom, setDiffFrom] = useState(null);
  const [diffTo, setDiffTo] = useState(null);

  const current = useLoad(() => Api.get(specId), [specId]);
  const viewed = useLoad(() => (viewRevision ? Api.get(specId, viewRevision) : Promise.resolve(null)), [specId, viewRevision]);
  const history = useLoad(() => Api.history(specId), [specId]);
  const runs = useLoad(() => Api.runs(specId), [specId]);
  const item = current.data;
  const revisions = listOf(history.data, "revisions", "history", "entries");
  const runList = listOf(runs.data, "runs", "dag_runs");
  const active = runList.some((r) => ["queued", "running", "scheduled", "restarting"].includes(r.state));
  const dagExists = pick(item, "dag_exists", "dag.exists");
  useInterval(() => runs.reload(), 3000, active || triggering === "started");
  useInterval(() => current.reload(), 5000, item && dagExists === false);

  const reloadAll = () => {
    current.reload();
    history.reload();
    runs.reload();
  };
  const act = async (label, fn, after) => {
    setBusy(true);
    setActionError(null);
    setMessage(null);
    try {
      const answer = await fn();
      setMessage(`${label}: done${answer && answer.revision ? ` (revision ${answer.revision})` : ""}.`);
      if (after) after(answer);
      else reloadAll();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
      setConfirm(null);
    }
  };

  if (current.loading && !item) return h(Spinner);
  if (current.error) {
    return h(
      Stack,
      { gap: 3 },
      h(Link, { to: PAGE_ROOT }, "← Schedules"),
      h(ErrorBox, { error: current.error, title: current.error.status === 404 ? `No spec ${specId}` : `Could not load ${specId}` }),
    );
  }
  const spec = (viewRevision && viewed.data ? viewed.data.spec : item.spec) || {};
  const deleted = !!item.deleted;
  const status = statusOf(item);
  const lastRevision = item.revision;

  const actions = h(
    Stack,
    { row: true, gap: 2, wrap: true },
    !deleted && h(Router.Link, { to: `${PAGE_ROOT}/spec/${enc(specId)}/edit` }, h(Button, { kind: "primary", testid: "edit" }, "Edit")),
    !deleted && h(Button, { onClick: () => setTriggering(true), testid: "trigger-now", disabled: busy }, "Trigger now"),
    !deleted &&
      (item.paused
        ? h(Button, { onClick: () => act("Resumed", () => Api.resume(specId)), loading: busy, testid: "resume" }, "Resume")
        : h(Button, { onClick: () => act("Paused", () => Api.pause(specId)), loading: busy, testid: "pause" }, "Pause")),
    !deleted &&
      h(Button, { kind: "danger", testid: "delete", onClick: () => setConfirm({ label: `Delete ${specId}? Its DAG disappears; its history stays and it can be restored.`, action: () => act("Deleted", () => Api.remove(specId)) }) }, "Delete"),
    deleted && h(Button, { kind: "primary", onClick: () => act("Restored", () => Api.restore(specId)), testid: "restore" }, "Restore"),
  );

  return h(
    Stack,
    { gap: 4, testid: "spec-page" },
    h(Link, { to: PAGE_ROOT }, "← Schedules"),
    h(
      Stack,
      { row: true, justify: "space-between", align: "center", wrap: true },
      h(
        Stack,
        { gap: 1 },
        h(Stack, { row: true, gap: 2, align: "center" }, h(Heading, { size: "lg" }, specId), h(StatusBadge, { item }), item.paused && status.label !== "paused" && h(Badge, null, "paused")),
        h(
          Text,
          { muted: true, size: "sm", testid: "spec-meta" },
          `Revision ${lastRevision} by ${item.author} · ${formatTime(pick(item, "updated_at"))}`,
          dagExists === false ? " · DAG not parsed yet" : "",
        ),
        status.reason && h(Text, { size: "sm", testid: "status-reason" }, status.reason),
        dagExists !== false && !deleted && h(Link, { to: `/dags/${enc(specId)}`, testid: "open-dag" }, "Open the DAG"),
      ),
      actions,
    ),
    confirm &&
      h(
        Alert,
        { tone: "warning", title: "Please confirm", testid: "confirm" },
        h(Stack, { gap: 2 }, confirm.label, h(Stack, { row: true, gap: 2 }, h(Button, { kind: "danger", onClick: confirm.action, loading: busy, testid: "confirm-yes" }, "Yes"), h(Button, { kind: "ghost", onClick: () => setConfirm(null) }, "Cancel"))),
      ),
    message && h(Alert, { tone: "success", testid: "message" }, message),
    h(ErrorBox, { error: actionError, title: "The action failed" }),
    triggering === true &&
      h(TriggerForm, {
        spec: item.spec,
        specId,
        onCancel: () => setTriggering(false),
        onDone: (answer) => {
          setTriggering("started");
          setMessage(`Run ${pick(answer, "dag_run_id", "run_id") || ""} triggered.`);
          setTab("runs");
          runs.reload();
        },
      }),
    h(Tabs, { tabs: [["spec", "Spec"], ["history", "History"], ["diff", "Diff"], ["runs", "Recent runs"]], current: tab, onChange: setTab }),
    tab === "spec" &&
      h(
        Stack,
        { gap: 2 },
        h(
          Stack,
          { row: true, gap: 2, align: "center" },
          h(Select, { value: format, onChange: setFormat, options: [["yaml", "YAML"], ["json", "JSON"]], name: "format" }),
          viewRevision && viewRevision !== lastRevision
            ? h(Fragment, null, h(Badge, { tone: "orange" }, `revision ${viewRevision} (not current)`), h(Button, { kind: "ghost", onClick: () => setViewRevision(null) }, "Show current"))
            : h(Badge, { tone: "blue" }, `revision ${lastRevision} (current)`),
        ),
        h(Pre, { testid: "spec-text" }, format === "yaml" ? toYaml(spec) : JSON.stringify(spec, null, 2)),
      ),
    tab === "history" &&
      h(
        Stack,
        { gap: 2 },
        h(ErrorBox, { error: history.error, title: "Could not load the history" }),
        h(HistoryTable, {
          specId,
          history: revisions,
          current: lastRevision,
          onView: (r) => (setViewRevision(r), setTab("spec")),
          onCompare: (r) => (setDiffFrom(r), setDiffTo(lastRevision), setTab("diff")),
          onRollback: (r) =>
            setConfirm({ label: `Roll back ${specId} to revision ${r}? This writes a new revision equal to revision ${r}.`, action: () => act(`Rolled back to revision ${r}`, () => Api.rollback(specId, r)) }),
        }),
      ),
    tab === "diff" &&
      h(RevisionDiff, {
        specId,
        history: revisions,
        from: diffFrom || (lastRevision > 1 ? lastRevision - 1 : lastRevision),
        to: diffTo || lastRevision,
        setFrom: setDiffFrom,
        setTo: setDiffTo,
      }),
    tab === "runs" &&
      h(Stack, { gap: 2 }, h(ErrorBox, { error: runs.error, title: "Could not load the runs" }), h(RunsTable, { specId, runs: runList })),
  );
}

// ================================================================================================
// The editor

function ProblemList({ problems, onPick, source }) {
  if (!problems) return null;
  if (problems.length === 0) return h(Alert, { tone: "success", testid: "problems-none" }, `No problems (${source}).`);
  return h(
    Alert,
    { tone: "error", title: `${problems.length} problem(s) (${source})`, testid: "problems" },
    h(
      "ul",
      { style: { margin: "0.25rem 0 0 1rem", padding: 0 } },
      problems.map((p, k) =>
        h(
          "li",
          { key: k, "data-testid": "problem", "data-path": p.path },
          h("a", { href: "#", onClick: (e) => (e.preventDefault(), onPick(p)), style: { fontFamily: "var(--chakra-fonts-mono, monospace)", textDecoration: "underline" } }, p.path || "(root)"),
          `: ${p.message}`,
        ),
      ),
    ),
  );
}

function ConflictPanel({ conflict, mine, onReload, onReapply }) {
  const theirs = conflict.theirs;
  return h(
    Alert,
    { tone: "warning", title: "Someone else changed this spec", testid: "conflict" },
    h(
      Stack,
      { gap: 2 },
      h(Text, null, `Your change was based on revision ${conflict.expected ?? "?"}, the store now holds revision ${conflict.current ?? "?"}${theirs ? ` (by ${theirs.author})` : ""}. Nothing was stored.`),
      theirs && h(Text, { size: "sm" }, "What changed since your revision (their version → yours):"),
      theirs && h(DiffView, { before: toYaml(theirs.spec || {}), after: toYaml(mine || {}), testid: "conflict-diff" }),
      h(
        Stack,
        { row: true, gap: 2 },
        h(Button, { onClick: onReload, testid: "conflict-reload" }, `Reload revision ${conflict.current ?? ""} (drop my edits)`),
        h(Button, { kind: "primary", onClick: onReapply, testid: "conflict-reapply" }, `Apply my version over revision ${conflict.current ?? ""}`),
      ),
    ),
  );
}

function Editor({ specId }) {
  const navigate = Router.useNavigate();
  const isNew = !specId;
  const [text, setText] = useState("");
  const [baseRevision, setBaseRevision] = useState(isNew ? 0 : null);
  const [baseSpec, setBaseSpec] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [local, setLocal] = useState(null); // {syntax} | {problems}
  const [server, setServer] = useState(null); // {problems, forText}
  const [validating, setValidating] = useState(false);
  const [schema, setSchema] = useState(null);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [exampleKey, setExampleKey] = useState("");
  const area = useRef(null);
  const parsed = useMemo(() => parseJsonWithPaths(text || "null"), [text]);
  const value = parsed.error ? null : parsed.value;
  const namespace = value && typeof value.namespace === "string" ? value.namespace : specId ? specId.split(".")[0] : "";

  const loadStored = useCallback(async () => {
    const stored = await Api.get(specId);
    setText(JSON.stringify(stored.spec, null, 2));
    setBaseRevision(stored.revision);
    setBaseSpec(stored.spec);
    setConflict(null);
    setApplyError(null);
  }, [specId]);

  useEffect(() => {
    if (isNew) {
      const first = examples("", null)[0];
      setText(JSON.stringify(first.spec, null, 2));
      setExampleKey(first.key);
    } else {
      loadStored().catch(setLoadError);
    }
  }, [isNew, loadStored]);

  // The namespace's published schema (what that team may use), for the instant check and the examples.
  useEffect(() => {
    let live = true;
    if (!namespace) return undefined;
    Api.schema(namespace).then(
      (s) => live && setSchema(s && s.schema && !s.properties ? s.schema : s),
      () => live && setSchema(null), // no schema route: the server's validate alone says what is wrong
    );
    return () => {
      live = false;
    };
  }, [namespace]);

  // Live validation: instantly in the page (syntax, schema), then the server's validate, debounced.
  useEffect(() => {
    if (parsed.error) {
      setLocal({ syntax: parsed.error });
      setServer(null);
      return undefined;
    }
    setLocal({ problems: schema ? schemaProblems(schema, value) : null });
    setValidating(true);
    const forText = text;
    const timer = setTimeout(() => {
      Api.validate(value).then(
        (answer) => {
          setServer({ problems: problemsOf(answer), forText });
          setValidating(false);
        },
        (err) => {
          // A 422 from validate carries the problems too.
          const problems = problemsOf(err.data);
          setServer(problems.length ? { problems, forText } : { error: err, forText });
          setValidating(false);
        },
      );
    }, 600);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text, schema]);

  const jumpTo = (problem) => {
    if (!area.current || parsed.error) return;
    // Select the value the problem is about (or its nearest existing parent), ready to be retyped.
    const offset = offsetOfPath(parsed.positions, problem.path);
    const found = [...parsed.positions].find(([, start]) => start === offset);
    const end = found ? parsed.ends.get(found[0]) : offset + 1;
    area.current.focus();
    area.current.setSelectionRange(offset, end);
    const { line } = lineColumn(text, offset);
    area.current.scrollTop = Math.max(0, (line - 5) * 20);
  };

  const apply = async (expected) => {
    if (!value) return;
    const id = `${value.namespace}.${value.name}`;
    setApplying(true);
    setApplyError(null);
    try {
      const answer = await Api.apply(id, value, expected);
      navigate(`${PAGE_ROOT}/spec/${enc(pick(answer, "spec_id") || id)}`, { state: { applied: answer.revision } });
    } catch (err) {
      if (err.status === 409) {
        const info = conflictOf(err.data);
        let theirs = null;
        try {
          theirs = await Api.get(id);
        } catch {
          theirs = null;
        }
        setConflict({ ...info, current: info.current ?? (theirs && theirs.revision), theirs });
      } else if (err.status === 422) {
        setServer({ problems: problemsOf(err.data), forText: text });
        setApplyError(err);
      } else {
        setApplyError(err);
      }
    } finally {
      setApplying(false);
    }
  };

  const exampleList = examples(namespace && namespace !== "my-team" ? namespace : "", schema ? templatesInSchema(schema) : null);
  const serverCurrent = server && server.forText === text ? server : null;
  const problems = local && local.syntax ? null : serverCurrent ? serverCurrent.problems : local && local.problems;
  const source = serverCurrent ? "server validation" : "schema check, waiting for the server";
  const canApply = value && !parsed.error && serverCurrent && serverCurrent.problems && serverCurrent.problems.length === 0 && !applying;

  if (loadError) return h(ErrorBox, { error: loadError, title: `Could not load ${specId}` });
  return h(
    Stack,
    { gap: 4, testid: "editor" },
    h(Link, { to: specId ? `${PAGE_ROOT}/spec/${enc(specId)}` : PAGE_ROOT }, specId ? `← ${specId}` : "← Schedules"),
    h(
      Stack,
      { row: true, justify: "space-between", align: "center", wrap: true },
      h(Heading, { size: "lg" }, isNew ? "New spec" : `Edit ${specId}`),
      h(Text, { muted: true, size: "sm" }, isNew ? "Creates a new spec (fails if one with this name exists)." : `Based on revision ${baseRevision}`),
    ),
    isNew &&
      h(
        Stack,
        { row: true, gap: 2, align: "center", wrap: true },
        h(Text, null, "Start from an example:"),
        h(Select, {
          value: exampleKey,
          name: "example",
          testid: "example",
          options: [["", "(keep my text)"], ...exampleList.map((e) => [e.key, e.title])],
          onChange: (key) => {
            setExampleKey(key);
            const example = exampleList.find((e) => e.key === key);
            if (example) setText(JSON.stringify(example.spec, null, 2));
          },
        }),
      ),
    h(Text, { muted: true, size: "sm" }, "The spec as JSON (the same document `airflow-scheduler validate` reads as YAML). Problems are checked as you type."),
    h(TextArea, { value: text, onChange: setText, name: "spec", testid: "spec-editor", areaRef: area, rows: 26 }),
    local && local.syntax && h(Alert, { tone: "error", title: "Not valid JSON", testid: "syntax-error" }, `line ${local.syntax.line}, column ${local.syntax.column}: ${local.syntax.message}`),
    validating && !serverCurrent && !(local && local.syntax) && h(Text, { muted: true, size: "sm", testid: "validating" }, "Validating…"),
    server && server.error && server.forText === text && h(ErrorBox, { error: server.error, title: "The server could not validate the spec" }),
    h(ProblemList, { problems, onPick: jumpTo, source }),
    conflict &&
      h(ConflictPanel, {
        conflict,
        mine: value,
        onReload: () => loadStored().catch(setApplyError),
        onReapply: () => {
          const current = conflict.current;
          setBaseRevision(current);
          setConflict(null);
          apply(current);
        },
      }),
    applyError && !conflict && h(ErrorBox, { error: applyError, title: "Not applied" }),
    h(
      Stack,
      { row: true, gap: 2 },
      h(Button, { kind: "primary", onClick: () => apply(baseRevision), disabled: !canApply, loading: applying, testid: "apply" }, isNew ? "Create" : "Apply"),
      !isNew && baseSpec && h(Button, { kind: "ghost", onClick: () => setText(JSON.stringify(baseSpec, null, 2)), testid: "revert" }, "Discard my edits"),
    ),
    !isNew && baseSpec && value && h(Stack, { gap: 1 }, h(Text, { muted: true, size: "sm" }, `Your changes against revision ${baseRevision}:`), h(DiffView, { before: toYaml(baseSpec), after: toYaml(value), testid: "edit-diff" })),
  );
}

// ================================================================================================
// The nav page and the DAG tab

function parseRoute(pathname) {
  const at = pathname.indexOf(PAGE_ROOT);
  const rest = at >= 0 ? pathname.slice(at + PAGE_ROOT.length).replace(/^\/+|\/+$/g, "") : "";
  if (rest === "new") return { page: "new" };
  const match = /^spec\/([^/]+)(\/edit)?$/.exec(rest);
  if (match) return { page: match[2] ? "edit" : "spec", specId: decodeURIComponent(match[1]) };
  return { page: "list" };
}

function Frame({ children }) {
  return h("div", { style: { padding: "0.5rem 0.25rem", maxWidth: "90rem" } }, children);
}

/** The "Schedules" page in Airflow's navigation (globalThis.AirflowPlugin of schedules-nav.js). */
export function SchedulesPage() {
  const location = Router.useLocation();
  const route = parseRoute(location.pathname);
  let page;
  if (route.page === "new") page = h(Editor, { key: "new" });
  else if (route.page === "edit") page = h(Editor, { key: `edit-${route.specId}`, specId: route.specId });
  else if (route.page === "spec") page = h(SpecPage, { key: route.specId, specId: route.specId });
  else page = h(SpecList);
  return h(Frame, null, page);
}

/** The "Schedule spec" tab on a DAG's page: where the DAG comes from (globalThis.AirflowPlugin of schedules-dag.js). */
export function SpecTab({ dagId }) {
  const current = useLoad(() => Api.get(dagId), [dagId]);
  const history = useLoad(() => Api.history(dagId), [dagId]);
  const item = current.data;
  let body;
  if (current.loading && !item) body = h(Spinner);
  else if (current.error && current.error.status === 404) {
    body = h(
      Alert,
      { tone: "info", title: "Not generated from a schedule spec", testid: "not-a-spec" },
      `No schedule spec has the id ${dagId}: this DAG comes from a Python file in the dags folder.`,
    );
  } else if (current.error) body = h(ErrorBox, { error: current.error, title: "Could not load the spec" });
  else {
    const revisions = listOf(history.data, "revisions", "history", "entries");
    body = h(
      Stack,
      { gap: 4 },
      h(
        Stack,
        { row: true, justify: "space-between", align: "center", wrap: true },
        h(
          Stack,
          { gap: 1 },
          h(Stack, { row: true, gap: 2, align: "center" }, h(Heading, { size: "md" }, `Schedule spec ${item.spec_id}`), h(StatusBadge, { item })),
          h(Text, { muted: true, size: "sm", testid: "spec-meta" }, `Revision ${item.revision} by ${item.author} · ${formatTime(pick(item, "updated_at"))}`),
          h(Text, { muted: true, size: "sm" }, "This DAG is generated from the spec below; the loader file in the dags folder only reads the spec store."),
        ),
        h(
          Stack,
          { row: true, gap: 2 },
          h(Router.Link, { to: `${PAGE_ROOT}/spec/${enc(item.spec_id)}/edit` }, h(Button, { kind: "primary", testid: "edit-spec" }, "Edit spec")),
          h(Router.Link, { to: `${PAGE_ROOT}/spec/${enc(item.spec_id)}` }, h(Button, { testid: "open-spec" }, "Open in Schedules")),
        ),
      ),
      h(Pre, { testid: "spec-text" }, toYaml(item.spec || {})),
      h(Heading, { size: "sm" }, "History"),
      h(Table, {
        testid: "spec-history",
        columns: ["Revision", "Change", "Author", "When"],
        rows: revisions.map((e) => ({ key: e.revision, cells: [e.revision, pick(e, "action") || "", e.author, formatTime(pick(e, "updated_at", "created_at"))] })),
        empty: "No history.",
      }),
    );
  }
  return h("div", { "data-testid": "spec-tab", style: { padding: "0.5rem 0" } }, body);
}
