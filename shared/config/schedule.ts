/**
 * How often a connection syncs. The timer function fires on its own schedule; a connection's schedule
 * only thins that out, so "every run of the timer" is the default. Cron uses the familiar five fields
 * (minute hour day-of-month month day-of-week), not the six-field NCRONTAB of the timer trigger, since
 * it is admins who write it.
 */
import { z } from 'zod';

interface CronFieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

const CRON_FIELDS: readonly CronFieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 0 and 7 are both Sunday, as in most crons.
  { name: 'day of week', min: 0, max: 7 },
];

export interface CronSchedule {
  /** Allowed values per field, in the order minute, hour, day of month, month, day of week. */
  readonly fields: readonly (readonly number[])[];
}

export type CronParseResult =
  { readonly ok: true; readonly schedule: CronSchedule } | { readonly ok: false; readonly message: string };

export function parseCron(expression: string): CronParseResult {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== CRON_FIELDS.length) {
    return {
      ok: false,
      message: `a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has ${parts.length}`,
    };
  }
  const fields: number[][] = [];
  for (const [index, spec] of CRON_FIELDS.entries()) {
    const values = parseCronField(parts[index] ?? '', spec);
    if (typeof values === 'string') return { ok: false, message: values };
    fields.push(values);
  }
  return { ok: true, schedule: { fields } };
}

/** Returns the allowed values, or a message saying what is wrong with the field. */
function parseCronField(text: string, spec: CronFieldSpec): number[] | string {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (match === null)
      return `${spec.name} "${item}" is not *, a number, a range a-b, or one of those with /step`;
    const [, , from, to, step] = match;
    const start = from === undefined ? spec.min : Number(from);
    const end =
      from === undefined ? spec.max : to === undefined ? (step === undefined ? start : spec.max) : Number(to);
    const increment = step === undefined ? 1 : Number(step);
    if (start < spec.min || end > spec.max || start > end) {
      return `${spec.name} "${item}" is outside ${spec.min}-${spec.max}`;
    }
    if (increment < 1) return `${spec.name} "${item}" has a step of 0`;
    for (let value = start; value <= end; value += increment) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

export const scheduleSchema = z
  .union(
    [
      z.strictObject({
        everyMinutes: z
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .meta({ description: 'Minutes between the starts of two syncs.' }),
      }),
      z.strictObject({
        cron: z
          .string()
          .superRefine((value, ctx) => {
            const parsed = parseCron(value);
            if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
          })
          .meta({ description: 'Five-field cron expression in UTC, e.g. "0 */4 * * *".' }),
      }),
    ],
    { error: 'must be { "everyMinutes": N } or { "cron": "m h dom mon dow" }' },
  )
  .optional()
  .meta({ description: 'When to sync. Without it, every run of the timer syncs this connection.' });

export type ScheduleSetting = z.output<typeof scheduleSchema>;

/**
 * Whether a connection's sync is due now, given when its last sync or import started. The timer fires
 * on its own NCRONTAB schedule; this only thins it out. A cron schedule is due when one of its minutes
 * has passed since the last run (looking back at most a week, which a timer always beats).
 */
export function isSyncDue(schedule: ScheduleSetting, lastStartedAt: Date | null, now: Date): boolean {
  if (schedule === undefined || lastStartedAt === null) return true;
  if ('everyMinutes' in schedule) {
    // Half a minute of slack: a timer firing a little early must not skip a whole interval.
    return now.getTime() - lastStartedAt.getTime() >= schedule.everyMinutes * 60_000 - 30_000;
  }
  const parsed = parseCron(schedule.cron);
  if (!parsed.ok) return false;
  const [minutes, hours, days, months, weekdays] = parsed.schedule.fields as [
    readonly number[],
    readonly number[],
    readonly number[],
    readonly number[],
    readonly number[],
  ];
  const start = Math.max(lastStartedAt.getTime(), now.getTime() - 7 * 24 * 60 * 60_000);
  // Every whole minute after the last start, up to now, is a moment the cron could name.
  for (let t = Math.floor(start / 60_000 + 1) * 60_000; t <= now.getTime(); t += 60_000) {
    const at = new Date(t);
    const weekday = at.getUTCDay();
    if (
      minutes.includes(at.getUTCMinutes()) &&
      hours.includes(at.getUTCHours()) &&
      days.includes(at.getUTCDate()) &&
      months.includes(at.getUTCMonth() + 1) &&
      (weekdays.includes(weekday) || (weekday === 0 && weekdays.includes(7)))
    ) {
      return true;
    }
  }
  return false;
}
