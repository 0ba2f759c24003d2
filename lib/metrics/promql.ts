/**
 * Small pure helpers the rule builders share: numbers as PromQL reads them, label
 * selectors, the `le` label of prometheus_client's buckets, and a time-of-day window.
 */

/** A number without floating-point noise: `1 - 0.9995` is written `0.0005`. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** A label selector body, `a="x", b=~"y"`: values are quoted, `=~`/`!~` kept when the value starts with them. */
export function selector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => {
    const op = /^(=~|!~|!=)/.exec(v)?.[1];
    return op ? `${k}${op}"${v.slice(op.length)}"` : `${k}="${v}"`;
  }).join(', ');
}

/**
 * The `le` label value prometheus_client writes for a bucket bound (Go's float formatting
 * with at least one decimal: `0.5`, `1.0`, `10.0`). Prometheus 2 compares label values as
 * strings, so a selector on `le` must use exactly this text.
 */
export function leLabel(seconds: number): string {
  return Number.isInteger(seconds) ? seconds.toFixed(1) : formatNumber(seconds);
}

/** A daily window in UTC, on some days of the week. */
export interface UtcWindow {
  /** Days of the week, 0 = Sunday (PromQL `day_of_week()`). */
  readonly days: readonly number[];
  /** Minutes after 00:00 UTC the window opens. */
  readonly fromMinute: number;
  /** Minutes after 00:00 UTC the window closes (exclusive); below `fromMinute` when it spans midnight. */
  readonly toMinute: number;
}

/**
 * A label-less vector that has a sample exactly while `window` is open (Prometheus's clock
 * is UTC: `hour()`, `minute()` and `day_of_week()` of `time()`). Rules use it as
 * `... and on () (<this>)`. The day is the day of the moment evaluated.
 */
export function utcWindowExpr(window: UtcWindow): string {
  const now = '(hour() * 60 + minute())';
  const from = `${now} >= ${window.fromMinute}`;
  const to = `${now} < ${window.toMinute}`;
  const time = window.fromMinute < window.toMinute ? `(${from} and ${to})` : `(${from} or ${to})`;
  const days = [...new Set(window.days)].sort();
  if (days.length === 7) return time;
  return `${time} and on () (${days.map((d) => `day_of_week() == ${d}`).join(' or ')})`;
}

/** True when `window` is open at `epochMinute` (minutes since 1970-01-01T00:00Z, a Thursday): the PromQL of {@link utcWindowExpr}, in TypeScript. */
export function utcWindowOpen(window: UtcWindow, epochMinute: number): boolean {
  const day = (4 + Math.floor(epochMinute / 1440)) % 7;
  const minute = epochMinute % 1440;
  const inTime = window.fromMinute < window.toMinute
    ? minute >= window.fromMinute && minute < window.toMinute
    : minute >= window.fromMinute || minute < window.toMinute;
  return inTime && window.days.includes(day);
}
