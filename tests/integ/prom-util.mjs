// Reading GET /metrics: Prometheus's text exposition format 0.0.4, parsed
// with the npm package prom2javascript after a strict check of our own,
// since the parser lets through some of what Prometheus refuses (a TYPE
// twice, a sample before its TYPE, a family split in two). (The better
// known parse-prometheus-text-format merges the series of a histogram
// with labels into one, losing their labels, counts and sums.)

import { Readable } from "node:stream";
import { getMetricsFromStream } from "prom2javascript";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*";
const LVALUE = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
const VALUE = "(?:NaN|[+-]Inf|[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?)";
const HELP_RE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_RE = new RegExp(`^(${NAME})(\\{(?:${LABEL}="${LVALUE}"(?:,${LABEL}="${LVALUE}")*)?\\})? (${VALUE})$`);
const PAIR_RE = new RegExp(`(${LABEL})="(${LVALUE})"`, "g");

const unescape = (s) => s.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));

// The samples of a label string "{a="x",le="1"}" as an object.
function labelsOf(braces) {
  const out = {};
  if (!braces) return out;
  for (const m of braces.matchAll(PAIR_RE)) {
    if (m[1] in out) throw new Error(`label ${m[1]} twice in ${braces}`);
    out[m[1]] = unescape(m[2]);
  }
  return out;
}

const key = (labels) => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));

// Throws, naming the line, unless text is valid exposition format with
// Prometheus's naming practice. Returns { type, help } by family name.
export function checkExposition(text) {
  if (!text.endsWith("\n")) throw new Error("text does not end in a newline");
  const fams = new Map();
  const seen = new Set();
  const series = new Set();
  let cur = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    let m;
    if ((m = HELP_RE.exec(line))) {
      const f = fams.get(m[1]) ?? { name: m[1], samples: [] };
      if (f.help !== undefined) throw new Error(`HELP twice: ${where}`);
      if (f.samples.length) throw new Error(`HELP after samples: ${where}`);
      f.help = unescape(m[2]);
      fams.set(m[1], f);
      if (cur !== m[1] && seen.has(m[1])) throw new Error(`family split: ${where}`);
      cur = m[1];
      seen.add(m[1]);
      return;
    }
    if ((m = TYPE_RE.exec(line))) {
      const f = fams.get(m[1]) ?? { name: m[1], samples: [] };
      if (f.type !== undefined) throw new Error(`TYPE twice: ${where}`);
      if (f.samples.length) throw new Error(`TYPE after samples: ${where}`);
      f.type = m[2];
      fams.set(m[1], f);
      if (cur !== m[1] && seen.has(m[1])) throw new Error(`family split: ${where}`);
      cur = m[1];
      seen.add(m[1]);
      return;
    }
    if (line.startsWith("#")) throw new Error(`stray comment: ${where}`);
    if (!(m = SAMPLE_RE.exec(line))) throw new Error(`not a sample: ${where}`);
    const f = fams.get(cur);
    if (!f?.type) throw new Error(`sample before its TYPE: ${where}`);
    const suffix = m[1].slice(f.name.length);
    const ok = m[1].startsWith(f.name) &&
      (f.type === "histogram" ? ["_bucket", "_sum", "_count"].includes(suffix) : suffix === "");
    if (!ok) throw new Error(`sample of another family than ${f.name}: ${where}`);
    const labels = labelsOf(m[2]);
    const id = `${m[1]}${key(labels)}`;
    if (series.has(id)) throw new Error(`series twice: ${where}`);
    series.add(id);
    f.samples.push({ name: m[1], labels, value: Number(m[3].replace("Inf", "Infinity")) });
  });

  for (const f of fams.values()) {
    if (f.help === undefined || f.type === undefined) throw new Error(`${f.name}: HELP or TYPE missing`);
    checkNaming(f);
    if (f.type === "histogram") checkHistogram(f);
  }
  return fams;
}

// Prometheus's practice: snake case, base units, _total on counters only.
function checkNaming(f) {
  if (!/^[a-z_][a-z0-9_]*$/.test(f.name)) throw new Error(`${f.name}: not snake case`);
  if (/_(milliseconds|millis|ms|microseconds|us|ns|minutes|hours|kilobytes|kb|megabytes|mb|percent)(_|$)/.test(f.name)) {
    throw new Error(`${f.name}: not in a base unit`);
  }
  if (f.type === "counter" && !f.name.endsWith("_total")) throw new Error(`${f.name}: a counter without _total`);
  if (f.type !== "counter" && f.name.endsWith("_total")) throw new Error(`${f.name}: _total on a ${f.type}`);
  if (f.type === "histogram" && !/_(seconds|bytes)$/.test(f.name)) throw new Error(`${f.name}: a histogram without its unit`);
  for (const s of f.samples) {
    for (const l of Object.keys(s.labels)) if (l.startsWith("__")) throw new Error(`${f.name}: reserved label ${l}`);
    if (f.type !== "histogram" && "le" in s.labels) throw new Error(`${f.name}: le outside a histogram`);
    if (f.type === "counter" && !(s.value >= 0)) throw new Error(`${f.name}: counter ${s.value}`);
  }
}

// Buckets ascending by le, cumulative, the last +Inf = _count; a _sum.
function checkHistogram(f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const k = key(rest);
    const g = groups.get(k) ?? { buckets: [], sum: undefined, count: undefined };
    groups.set(k, g);
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      g.buckets.push([le === "+Inf" ? Infinity : Number(le), s.value]);
    } else if (le !== undefined) {
      throw new Error(`${f.name}: le on ${s.name}`);
    } else if (s.name.endsWith("_sum")) {
      g.sum = s.value;
    } else {
      g.count = s.value;
    }
  }
  for (const [k, g] of groups) {
    const where = `${f.name}${k}`;
    if (g.sum === undefined || g.count === undefined) throw new Error(`${where}: _sum or _count missing`);
    if (!g.buckets.length || g.buckets.at(-1)[0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) throw new Error(`${where}: le not ascending`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${where}: buckets not cumulative`);
    }
    if (g.buckets.at(-1)[1] !== g.count) throw new Error(`${where}: +Inf bucket ${g.buckets.at(-1)[1]} != _count ${g.count}`);
    if (g.count > 0 && !(g.sum >= 0)) throw new Error(`${where}: _sum ${g.sum}`);
  }
}

// Parsed metrics (checked first): a Map of families by name, as the npm
// parser gives them ({ type, help, data: [{ labels, value }] }, histograms
// { labels, buckets, sum, count }).
export async function parseMetrics(text) {
  checkExposition(text);
  const fams = await getMetricsFromStream(Readable.from([text]));
  return new Map(Object.entries(fams));
}

const same = (a = {}, b = {}) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

// The value of the sample of family `name` with exactly these labels; 0
// when the family has no such series (nothing counted yet).
export function valueOf(fams, name, labels = {}) {
  const f = fams.get(name);
  if (!f) throw new Error(`no family ${name}`);
  const m = f.data.find((x) => same(x.labels, labels));
  return m ? Number(m.value) : 0;
}

// { count, sum } of the histogram series of `name` with these labels.
export function histOf(fams, name, labels = {}) {
  const f = fams.get(name);
  if (!f) throw new Error(`no family ${name}`);
  if (f.type !== "histogram") throw new Error(`${name} is a ${f.type}`);
  const m = f.data.find((x) => same(x.labels, labels));
  return m ? { count: Number(m.count), sum: Number(m.sum) } : { count: 0, sum: 0 };
}
