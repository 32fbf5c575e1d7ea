// Pure helpers of the console: no DOM, no network, unit-tested.

/** Splits a textarea's value into its non-empty lines, trimmed. */
export function lines(text) {
  return String(text ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Splits a space- or comma-separated list. */
export function words(text) {
  return String(text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

/** The scopes text with word added (on) or taken out, the others kept in order. */
export function toggleWord(text, word, on) {
  const list = words(text).filter((w) => w !== word);
  if (on) list.push(word);
  return list.join(' ');
}

/**
 * Maps a problem's `field` (such as "callback_urls[2]") to the form control it
 * concerns and, for lists, the 1-based line at fault.
 */
export function fieldOf(field) {
  const m = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(String(field ?? ''));
  if (!m) return { name: '', line: 0 };
  return { name: m[1], line: m[2] === undefined ? 0 : Number(m[2]) + 1 };
}

/** The message shown beside a field, in words a person reads. */
export function fieldMessage(problem) {
  const { name, line } = fieldOf(problem.field);
  let detail = String(problem.detail ?? 'is not valid');
  // The API's detail starts with the field name ("name: must be ...").
  if (problem.field && detail.startsWith(`${problem.field}: `)) detail = detail.slice(problem.field.length + 2);
  detail = detail.charAt(0).toUpperCase() + detail.slice(1);
  return { name, text: line ? `Line ${line}: ${detail}` : detail };
}

/** "you" for the signed-in user's own applications, else the creator's id. */
export function createdBy(app, sub) {
  if (!app.created_by) return 'unknown';
  return app.created_by === sub ? 'you' : app.created_by;
}

/** Whether the signed-in user may change, rotate or delete the application. */
export function mayChange(app, sub) {
  return Boolean(sub) && app.created_by === sub;
}

const typeLabels = { spa: 'SPA OAuth Client', m2m: 'M2M OAuth Client' };
export function typeLabel(type) {
  return typeLabels[type] ?? type;
}

const planLabels = {
  free: 'Free',
  team: 'Team',
  enterprise: 'Enterprise',
  enterprise_large: 'Enterprise Large',
  enterprise_unlimited: 'Enterprise Unlimited',
};
export function planLabel(plan) {
  return planLabels[plan] ?? plan;
}

/**
 * This month's M2M token usage against the quota, from GET /organization:
 * "1,234 of 1,000,000 M2M tokens this month (0.1%)"; null without a quota.
 */
export function tokenUsage(o) {
  const quota = Number(o?.m2m_token_quota ?? 0);
  if (!quota) return null;
  const used = Number(o.m2m_tokens_this_month ?? 0);
  const pct = Math.min(100, (100 * used) / quota);
  const n = (x) => x.toLocaleString('en-US');
  return `${n(used)} of ${n(quota)} M2M tokens this month (${pct < 10 ? pct.toFixed(1) : Math.round(pct)}%)`;
}

/** Seconds as a short duration: "1 hour", "90 seconds", "7 days". */
export function duration(seconds) {
  const n = Number(seconds);
  const units = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (n >= size && n % size === 0) {
      const k = n / size;
      return `${k} ${unit}${k === 1 ? '' : 's'}`;
    }
  }
  return `${n} second${n === 1 ? '' : 's'}`;
}

/** A date and time in the reader's locale, with the time zone. */
export function when(iso, locale) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return d.toLocaleString(locale, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });
}

/**
 * The JSON body of a create or update from a form's values: lists from
 * textareas, the lifetime as a whole number of seconds (omitted when empty,
 * so the server's default applies). M2M applications take no URLs.
 */
export function applicationBody(values, { type, create }) {
  const body = { name: String(values.name ?? '').trim(), description: String(values.description ?? '').trim() };
  if (create) body.type = type;
  if (type === 'spa') {
    body.callback_urls = lines(values.callback_urls);
    body.allowed_origins = lines(values.allowed_origins);
    body.logout_urls = lines(values.logout_urls);
  }
  if (values.scopes !== undefined) body.scopes = words(values.scopes);
  const lifetime = String(values.access_token_lifetime ?? '').trim();
  if (lifetime !== '') body.access_token_lifetime = /^\d+$/.test(lifetime) ? Number(lifetime) : lifetime;
  if (type === 'm2m' && values.token_reuse !== undefined) body.token_reuse = values.token_reuse !== 'off';
  return body;
}

/** The grace periods offered when rotating a secret, in seconds. */
export const gracePeriods = [
  { seconds: 0, label: 'None: the old secret stops working now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86400, label: '24 hours (recommended)' },
  { seconds: 604800, label: '7 days' },
];

/** Where to go after signing in: a path of the console, never elsewhere. */
export function safeReturnPath(path, base = '/console/') {
  const p = String(path ?? '');
  if (!p.startsWith(base) || p.startsWith('//') || p.includes('\\') || p.startsWith(`${base}callback`)) return `${base}credentials`;
  return p;
}
