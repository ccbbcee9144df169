import type { RunReport } from '../api/types.js';
import { countOf, formatDateTime, formatDuration, formatNumber } from '../lib/format.js';
import { actionLabel, situationLabel } from '../lib/vocabulary.js';
import { RunStatusBadge } from './badges.js';
import { Breakable } from './breakable.js';
import { LicenseTable } from './license-table.js';

/** A run report: how it ended, counts per situation and per action, licences, exceptions. */
export function ReportSummary({
  report,
  headingLevel = 3,
  showHeld = true,
}: {
  report: RunReport;
  headingLevel?: 2 | 3 | 4;
  /** Off where the held users are shown in full, with the button that approves them. */
  showHeld?: boolean;
}) {
  const Heading = (['h2', 'h3', 'h4'] as const)[headingLevel - 2] ?? 'h3';
  const preview = report.mode === 'preview';
  return (
    <div class="report">
      <dl class="stats">
        <div>
          <dt>Status</dt>
          <dd>
            <RunStatusBadge status={report.status} />
          </dd>
        </div>
        <div>
          <dt>Users read</dt>
          <dd>{formatNumber(report.usersRead)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDateTime(report.startedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{report.finishedAt === null ? '—' : formatDuration(report.durationMs)}</dd>
        </div>
        <div>
          <dt>Graph requests</dt>
          <dd>{formatNumber(report.graphRequests)}</dd>
        </div>
      </dl>
      {report.error !== null && (
        <div class="alert alert-error" role="alert">
          <p class="alert-title">The run failed: {report.error.message}</p>
          {report.error.nextStep !== null && (
            <p>
              <strong>Next step:</strong> {report.error.nextStep}
            </p>
          )}
        </div>
      )}
      {report.fallbackReason !== null && (
        <p class="alert alert-info">This sync ran as a full import: {report.fallbackReason}</p>
      )}
      {showHeld &&
        report.held !== null &&
        report.status !== 'superseded' &&
        report.approval === undefined && (
          <div class="alert alert-warning">
            <p class="alert-title">
              {preview ? 'An import would hold' : 'Held for approval:'}{' '}
              {countOf(report.held.count, 'deletion or suspension', 'deletions and suspensions')}
            </p>
            <p>
              That is more than the deletion threshold allows: {formatNumber(report.held.threshold)} for{' '}
              {countOf(report.held.linkedUsers, 'linked user')}.
            </p>
          </div>
        )}
      {report.approval !== undefined && (
        <p class="alert alert-success">
          Approved {formatDateTime(report.approval.approvedAt)}: {countOf(report.approval.applied, 'change')}{' '}
          applied
          {report.approval.skipped > 0 &&
            `, ${countOf(report.approval.skipped, 'user')} skipped because they changed since`}
          .
        </p>
      )}
      <div class="columns">
        <section aria-label="By situation">
          <Heading>By situation</Heading>
          <CountTable counts={report.situations} label={situationLabel} caption="Users per situation" />
        </section>
        <section aria-label={preview ? 'By action (would be taken)' : 'By action'}>
          <Heading>{preview ? 'By action (would be taken)' : 'By action'}</Heading>
          <CountTable counts={report.actions} label={actionLabel} caption="Users per action" />
        </section>
      </div>
      <Heading>Licences</Heading>
      <LicenseTable
        licenses={report.licenses}
        demandLabel={preview ? 'Needed by an import' : 'Asked for by this run'}
      />
      <Heading>Exceptions</Heading>
      {report.exceptions.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table class="table table-compact">
            <caption class="visually-hidden">Exceptions with their reasons</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Situation</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {report.exceptions.map((exception, index) => (
                <tr key={`${exception.user}-${index}`}>
                  <th scope="row" class="break">
                    <Breakable text={exception.user} />
                  </th>
                  <td>
                    <code>{exception.situation}</code>
                  </td>
                  <td>{exception.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.moreExceptions > 0 && (
            <p class="muted">
              …and {countOf(report.moreExceptions, 'more exception')}, listed with the users below.
            </p>
          )}
        </div>
      )}
    </div>
  );
}

function CountTable({
  counts,
  label,
  caption,
}: {
  counts: Readonly<Record<string, number>>;
  label: (code: string) => string;
  caption: string;
}) {
  const rows = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return <p class="muted">None.</p>;
  return (
    <table class="table table-compact">
      <caption class="visually-hidden">{caption}</caption>
      <tbody>
        {rows.map(([code, count]) => (
          <tr key={code}>
            <th scope="row">
              {label(code)} <code class="muted small">{code}</code>
            </th>
            <td class="num">{formatNumber(count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
