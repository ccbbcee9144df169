import { parseCron, type ScheduleSetting } from '../../../shared/config/schedule.js';

/**
 * When a connection's next sync is due, by the same rule the timer applies (isSyncDue in
 * shared/config/schedule.ts): the timer fires on its own schedule and a connection's schedule only thins
 * it out, so "due" means "at the first timer run from then on".
 */
export type NextSync =
  | { readonly kind: 'every-timer-run' }
  | { readonly kind: 'due-now' }
  | { readonly kind: 'at'; readonly at: Date }
  | { readonly kind: 'invalid'; readonly message: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function nextSync(schedule: ScheduleSetting, lastStartedAt: Date | null, now: Date): NextSync {
  if (schedule === undefined) return { kind: 'every-timer-run' };
  if (lastStartedAt === null) return { kind: 'due-now' };
  if ('everyMinutes' in schedule) {
    const at = new Date(lastStartedAt.getTime() + schedule.everyMinutes * MINUTE);
    return at.getTime() <= now.getTime() ? { kind: 'due-now' } : { kind: 'at', at };
  }
  const parsed = parseCron(schedule.cron);
  if (!parsed.ok) return { kind: 'invalid', message: parsed.message };
  const next = nextCronMinute(parsed.schedule.fields, new Date(lastStartedAt.getTime()));
  if (next === null)
    return { kind: 'invalid', message: 'the cron expression names no date in the next year' };
  return next.getTime() <= now.getTime() ? { kind: 'due-now' } : { kind: 'at', at: next };
}

/** The next few moments a cron expression names after `from`, for showing what an expression means. */
export function upcomingCronTimes(expression: string, from: Date, count: number): Date[] {
  const parsed = parseCron(expression);
  if (!parsed.ok) return [];
  const times: Date[] = [];
  let cursor = from;
  while (times.length < count) {
    const next = nextCronMinute(parsed.schedule.fields, cursor);
    if (next === null) break;
    times.push(next);
    cursor = next;
  }
  return times;
}

/**
 * The first whole minute after `after` that the cron fields name (UTC), within a year. Skips whole days
 * and hours that cannot match, so a yearly schedule costs a few hundred steps, not half a million.
 */
function nextCronMinute(fields: readonly (readonly number[])[], after: Date): Date | null {
  const [minutes = [], hours = [], days = [], months = [], weekdays = []] = fields;
  const limit = after.getTime() + 366 * DAY;
  let t = Math.floor(after.getTime() / MINUTE + 1) * MINUTE;
  while (t <= limit) {
    const at = new Date(t);
    const weekday = at.getUTCDay();
    const dayMatches =
      months.includes(at.getUTCMonth() + 1) &&
      days.includes(at.getUTCDate()) &&
      (weekdays.includes(weekday) || (weekday === 0 && weekdays.includes(7)));
    if (!dayMatches) {
      t = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
    } else if (!hours.includes(at.getUTCHours())) {
      t = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), at.getUTCHours() + 1);
    } else if (!minutes.includes(at.getUTCMinutes())) {
      t += MINUTE;
    } else {
      return at;
    }
  }
  return null;
}
