/**
 * Kubernetes' 5-field cron schedules, as the sections that schedule CronJobs write them
 * (backups, the database's pg-roles job): parsing, the cadence a schedule runs at, and
 * the zod schema of one. Pure: zod only.
 */
import { z } from 'zod';

/** The fields of a Kubernetes (5-field) cron schedule, with their ranges. */
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** A parsed schedule: the allowed values of each field, and whether day-of-month / day-of-week were restricted. */
export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

/** The schedule `text` writes, or why it is not a 5-field cron schedule of numbers. */
export function parseCron(text: string): CronSchedule | string {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) return `expected a 5-field cron schedule of numbers such as "15 2 * * *" (minute hour day-of-month month day-of-week; no @daily or names), not ${fields.length} field(s)`;
  const sets: number[][] = [];
  for (let i = 0; i < 5; i++) {
    const { name, min, max } = CRON_FIELDS[i];
    const values = new Set<number>();
    for (const part of fields[i].split(',')) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!m) return `expected a 5-field cron schedule of numbers such as "15 2 * * *": the ${name} field "${fields[i]}" is not *, n, a-b, a,b or */n`;
      const from = m[1] === '*' ? min : Number(m[2]);
      const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
      const step = m[4] !== undefined ? Number(m[4]) : 1;
      if (from < min || to > max || from > to || step < 1) return `expected ${name} values within ${min}-${max} (the ${name} field has "${part}")`;
      for (let v = from; v <= to; v += step) values.add(i === 4 && v === 7 ? 0 : v);
    }
    sets.push([...values].sort((a, b) => a - b));
  }
  return {
    minutes: sets[0], hours: sets[1], daysOfMonth: new Set(sets[2]), months: new Set(sets[3]), daysOfWeek: new Set(sets[4]),
    domRestricted: fields[2] !== '*', dowRestricted: fields[4] !== '*',
  };
}

/** How often a schedule runs, measured over the two calendar years 2025-2026 (UTC). */
export interface CronCadence {
  /** Runs a year (the average of the two years). */
  readonly runsPerYear: number;
  /** Shortest time between two runs, in seconds. */
  readonly minGapSeconds: number;
  /** Longest time between two runs (including across the years' boundary), in seconds. */
  readonly maxGapSeconds: number;
}

/** Cadences already computed, by schedule: every environment file names the same few schedules, and each costs a two-year walk. */
const CADENCES = new Map<string, CronCadence>();

/** The cadence of `schedule` (Kubernetes' cron semantics: day-of-month OR day-of-week when both are restricted). */
export function cronCadence(schedule: CronSchedule): CronCadence {
  const key = [schedule.minutes, schedule.hours, [...schedule.daysOfMonth], [...schedule.months], [...schedule.daysOfWeek],
    [schedule.domRestricted, schedule.dowRestricted]].map((values) => values.join(',')).join(' ');
  let cadence = CADENCES.get(key);
  if (!cadence) CADENCES.set(key, cadence = walkCadence(schedule));
  return cadence;
}

function walkCadence(schedule: CronSchedule): CronCadence {
  const start = Date.UTC(2025, 0, 1) / 1000;
  const days = 730;
  // The times of day it runs (every matching day runs at all of them), and the matching
  // days: over the two years, and the two months after so that the gap from the last run
  // of 2026 to the next is measured, not guessed.
  const offsets = schedule.hours.flatMap((h) => schedule.minutes.map((m) => h * 3600 + m * 60));
  const matching: number[] = [];
  for (let d = 0; d < days + 62; d++) {
    const day = new Date((start + d * 86_400) * 1000);
    if (!schedule.months.has(day.getUTCMonth() + 1)) continue;
    const dom = schedule.daysOfMonth.has(day.getUTCDate());
    const dow = schedule.daysOfWeek.has(day.getUTCDay());
    if (schedule.domRestricted && schedule.dowRestricted ? dom || dow : dom && dow) matching.push(d);
  }
  const runs = matching.filter((d) => d < days).length * offsets.length;
  if (runs === 0) return { runsPerYear: 0, minGapSeconds: Infinity, maxGapSeconds: Infinity };
  let minGap = Infinity;
  let maxGap = 0;
  for (let i = 1; i < offsets.length; i++) {
    minGap = Math.min(minGap, offsets[i] - offsets[i - 1]);
    maxGap = Math.max(maxGap, offsets[i] - offsets[i - 1]);
  }
  const [first, last] = [offsets[0], offsets[offsets.length - 1]];
  for (let i = 1; i < matching.length; i++) {
    const gap = (matching[i] - matching[i - 1]) * 86_400 - last + first;
    minGap = Math.min(minGap, gap);
    maxGap = Math.max(maxGap, gap);
  }
  return { runsPerYear: runs / 2, minGapSeconds: minGap, maxGapSeconds: maxGap === 0 ? Infinity : maxGap };
}

/** A human reading of a gap in seconds: `90 s`, `15 min`, `26 h`, `31 days`. */
export function formatSeconds(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400} days`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** A 5-field cron schedule of numbers that runs at least once (Etc/UTC). */
export const cronSchema = z.string({ error: 'expected a 5-field cron schedule such as "15 2 * * *"' }).superRefine((text, ctx) => {
  const parsed = parseCron(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', input: text, message: parsed });
  else if (cronCadence(parsed).runsPerYear === 0) ctx.addIssue({ code: 'custom', input: text, message: 'expected a schedule that runs (this one never matches a date)' });
});
