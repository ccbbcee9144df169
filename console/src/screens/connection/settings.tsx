import { useEffect, useMemo, useState } from 'preact/hooks';
import { ALLOWED_ACTIONS, CONFIGURABLE_SITUATIONS } from '../../../../shared/engine/policy.js';
import { DEFAULT_DELETION_THRESHOLD } from '../../../../shared/engine/threshold.js';
import { ErrorAlert } from '../../components/error-alert.js';
import { RadioGroup, TextField } from '../../components/fields.js';
import { IdentityFields } from '../../components/identity-fields.js';
import { IssueSummary } from '../../components/issue-summary.js';
import { applyIdentity, identityFromDocument, type IdentityForm } from '../../lib/identity-form.js';
import { upcomingCronTimes } from '../../lib/next-sync.js';
import { useDocumentSave } from '../../lib/use-document-save.js';
import { errorAt, fieldErrors } from '../../lib/validation.js';
import { actionLabel, situationLabel } from '../../lib/vocabulary.js';
import type { TabProps } from './connection-screen.js';
import {
  applySettingsForm,
  settingsFormFrom,
  type ScheduleKind,
  type SettingsForm,
} from './settings-form.js';

const utc = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** When the connection syncs, when a run is held, what each situation does, and its identity. */
export function SettingsTab({ connection, onSaved }: TabProps) {
  const fresh = (): { settings: SettingsForm; identity: IdentityForm } => ({
    settings: settingsFormFrom(connection.document),
    identity: identityFromDocument(connection.document),
  });
  const [form, setForm] = useState(fresh);
  const { summary, saving, saved, saveError, issuesOf, edited, discarded, save } = useDocumentSave(
    connection.id,
    onSaved,
  );

  useEffect(() => {
    setForm(fresh());
    // Only a new document resets the form.
  }, [connection.document]);

  const document = applySettingsForm(applyIdentity(connection.document, form.identity), form.settings);
  // Compared with the stored document as this form would write it, so that normalising (an implicit
  // global cloud written out) does not count as a change.
  const baseline = useMemo(() => {
    const stored = connection.document;
    return JSON.stringify(
      applySettingsForm(applyIdentity(stored, identityFromDocument(stored)), settingsFormFrom(stored)),
    );
  }, [connection.document]);
  const dirty = JSON.stringify(document) !== baseline;
  const issues = issuesOf(document);
  const errors = fieldErrors(issues);
  const settings = form.settings;

  const setSettings = (change: Partial<SettingsForm>): void => {
    setForm((current) => ({ ...current, settings: { ...current.settings, ...change } }));
    edited();
  };

  const upcoming = settings.scheduleKind === 'cron' ? upcomingCronTimes(settings.cron, new Date(), 3) : [];
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void save(document);
      }}
    >
      <div ref={summary} tabIndex={-1}>
        <IssueSummary issues={issues} />
      </div>
      <section class="card" aria-labelledby="schedule-heading">
        <h2 id="schedule-heading">Schedule</h2>
        <RadioGroup<ScheduleKind>
          legend="When to sync"
          value={settings.scheduleKind}
          error={errors.get('schedule')}
          onValue={(scheduleKind) => {
            setSettings({ scheduleKind });
          }}
          choices={[
            {
              value: 'timer',
              label: 'At every run of the timer',
              hint: 'The Function app timer (every 15 minutes unless SYNC_SCHEDULE says otherwise).',
            },
            { value: 'every', label: 'Every so many minutes' },
            { value: 'cron', label: 'On a cron schedule (UTC)' },
          ]}
        />
        {settings.scheduleKind === 'every' && (
          <TextField
            label="Minutes between syncs"
            inputMode="numeric"
            value={settings.everyMinutes}
            error={errorAt(errors, 'schedule.everyMinutes')}
            onValue={(everyMinutes) => {
              setSettings({ everyMinutes });
            }}
            class="field-short"
          />
        )}
        {settings.scheduleKind === 'cron' && (
          <TextField
            label="Cron expression"
            hint={
              upcoming.length > 0
                ? `Five fields: minute hour day-of-month month day-of-week. Next: ${upcoming.map((at) => `${utc.format(at)} UTC`).join('; ')}.`
                : 'Five fields: minute hour day-of-month month day-of-week, e.g. 15 */2 * * * (quarter past every second hour).'
            }
            value={settings.cron}
            error={errorAt(errors, 'schedule.cron')}
            onValue={(cron) => {
              setSettings({ cron });
            }}
          />
        )}
      </section>
      <section class="card" aria-labelledby="threshold-heading">
        <h2 id="threshold-heading">Deletion threshold</h2>
        <p class="field-hint">
          A run that would delete or suspend more users than this is held until a person approves. With both
          set, the smaller limit applies; with neither, the default is the smaller of{' '}
          {DEFAULT_DELETION_THRESHOLD.count} and {DEFAULT_DELETION_THRESHOLD.percent}% of the linked users.
        </p>
        <div class="field-row">
          <TextField
            label="Most deletions and suspensions per run"
            inputMode="numeric"
            value={settings.thresholdCount}
            placeholder={String(DEFAULT_DELETION_THRESHOLD.count)}
            error={errorAt(errors, 'policy.deletionThreshold.count', 'policy.deletionThreshold')}
            onValue={(thresholdCount) => {
              setSettings({ thresholdCount });
            }}
          />
          <TextField
            label="Most deletions and suspensions per run, in % of linked users"
            inputMode="numeric"
            value={settings.thresholdPercent}
            placeholder={String(DEFAULT_DELETION_THRESHOLD.percent)}
            error={errorAt(errors, 'policy.deletionThreshold.percent')}
            onValue={(thresholdPercent) => {
              setSettings({ thresholdPercent });
            }}
          />
        </div>
      </section>
      <section class="card" aria-labelledby="actions-heading">
        <h2 id="actions-heading">Actions</h2>
        <p class="field-hint">
          What a run does in each situation. Only the actions that make sense for a situation are offered.
        </p>
        <div class="table-wrap">
          <table class="table table-form">
            <caption class="visually-hidden">Action per situation</caption>
            <thead>
              <tr>
                <th scope="col">Situation</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {CONFIGURABLE_SITUATIONS.map((situation) => {
                const allowed = ALLOWED_ACTIONS[situation];
                const error = errorAt(errors, `policy.actions.${situation}`);
                return (
                  <tr key={situation}>
                    <th scope="row">
                      {situationLabel(situation)} <code class="muted small">{situation}</code>
                    </th>
                    <td>
                      <select
                        aria-label={`Action for ${situation}`}
                        value={settings.actions[situation]}
                        aria-invalid={error === undefined ? undefined : true}
                        onChange={(event) => {
                          setSettings({
                            actions: { ...settings.actions, [situation]: event.currentTarget.value },
                          });
                        }}
                      >
                        <option value="">Default: {actionLabel(allowed[0])}</option>
                        {allowed.slice(1).map((action) => (
                          <option key={action} value={action}>
                            {actionLabel(action)}
                          </option>
                        ))}
                      </select>
                      {error !== undefined && <p class="field-error">{error}</p>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card" aria-labelledby="identity-heading">
        <h2 id="identity-heading">Tenant and credential</h2>
        <IdentityFields
          form={form.identity}
          errors={errors}
          creating={false}
          onChange={(change) => {
            setForm((current) => ({ ...current, identity: { ...current.identity, ...change } }));
            edited();
          }}
        />
      </section>
      <div class="save-bar">
        <button type="submit" class="button button-primary" disabled={saving || !dirty}>
          {saving ? 'Saving…' : 'Save settings'}
        </button>
        <button
          type="button"
          class="button"
          disabled={saving || !dirty}
          onClick={() => {
            setForm(fresh());
            discarded();
          }}
        >
          Discard changes
        </button>
        <span role="status" class="save-state">
          {saved ? 'Saved.' : dirty ? 'Unsaved changes.' : ''}
        </span>
      </div>
      {saveError !== null && <ErrorAlert error={saveError} title="The settings were not saved." />}
    </form>
  );
}
