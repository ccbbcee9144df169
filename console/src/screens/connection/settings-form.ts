import { CONFIGURABLE_SITUATIONS, type ConfigurableSituation } from '../../../../shared/engine/policy.js';
import type { ConnectionConfigDocument } from '../../api/types.js';

/** The Settings screen's part of a connection document (schedule, deletion threshold, actions) as strings. */
export type ScheduleKind = 'timer' | 'every' | 'cron';

export interface SettingsForm {
  readonly scheduleKind: ScheduleKind;
  readonly everyMinutes: string;
  readonly cron: string;
  readonly thresholdCount: string;
  readonly thresholdPercent: string;
  /** '' keeps the default action. */
  readonly actions: Readonly<Record<ConfigurableSituation, string>>;
}

type PolicyInput = NonNullable<ConnectionConfigDocument['policy']>;

export function settingsFormFrom(document: ConnectionConfigDocument): SettingsForm {
  const schedule = document.schedule;
  const threshold = document.policy?.deletionThreshold;
  const overrides: Readonly<Record<string, string | undefined>> = document.policy?.actions ?? {};
  return {
    scheduleKind: schedule === undefined ? 'timer' : 'cron' in schedule ? 'cron' : 'every',
    everyMinutes: schedule !== undefined && 'everyMinutes' in schedule ? String(schedule.everyMinutes) : '',
    cron: schedule !== undefined && 'cron' in schedule ? schedule.cron : '',
    thresholdCount: threshold?.count === undefined ? '' : String(threshold.count),
    thresholdPercent: threshold?.percent === undefined ? '' : String(threshold.percent),
    actions: Object.fromEntries(
      CONFIGURABLE_SITUATIONS.map((situation) => [situation, overrides[situation] ?? '']),
    ) as Record<ConfigurableSituation, string>,
  };
}

/** A number when the text is one; otherwise the text, for the schema to reject with its own message. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

export function applySettingsForm(
  document: ConnectionConfigDocument,
  form: SettingsForm,
): ConnectionConfigDocument {
  const { schedule: _schedule, policy: _policy, ...rest } = document;
  const schedule =
    form.scheduleKind === 'every'
      ? { everyMinutes: numberOrText(form.everyMinutes) }
      : form.scheduleKind === 'cron'
        ? { cron: form.cron.trim() }
        : undefined;
  const actions = Object.fromEntries(Object.entries(form.actions).filter(([, action]) => action !== ''));
  const threshold = {
    ...(form.thresholdCount.trim() === '' ? {} : { count: numberOrText(form.thresholdCount) }),
    ...(form.thresholdPercent.trim() === '' ? {} : { percent: numberOrText(form.thresholdPercent) }),
  };
  const policy = {
    ...(Object.keys(actions).length === 0 ? {} : { actions }),
    ...(Object.keys(threshold).length === 0 ? {} : { deletionThreshold: threshold }),
  };
  return {
    ...rest,
    // Text where a number belongs, and actions as plain strings, are the schema's to reject by path.
    ...(schedule === undefined ? {} : { schedule: schedule as ConnectionConfigDocument['schedule'] }),
    ...(Object.keys(policy).length === 0 ? {} : { policy: policy as PolicyInput }),
  };
}
