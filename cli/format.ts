import type { StoredConnection } from '../shared/storage/connections.js';
import type { RunLogEntry, RunReport } from '../shared/storage/runs.js';
import type { StoredUser } from '../shared/storage/users.js';

/** Human-readable output of the CLI. The --json output is the objects themselves. */

function counts(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? '(none)' : entries.map(([name, count]) => `${name} ${count}`).join(', ');
}

export function formatReport(report: RunReport): string {
  const lines = [
    `Run ${report.runId} (${report.mode}) on connection ${report.connectionId}: ${report.status.toUpperCase()}`,
    `  users read     ${report.usersRead} in ${report.pages} page(s), ${(report.durationMs / 1000).toFixed(1)} s`,
    `  situations     ${counts(report.situations)}`,
    `  actions        ${counts(report.actions)}`,
    `  cost           ${report.graphRequests} Graph requests, ${report.storageTransactions} storage requests`,
  ];
  if (report.fallbackReason) lines.push(`  note           ${report.fallbackReason}`);
  for (const [license, pool] of Object.entries(report.licenses)) {
    lines.push(
      `  licence        ${license}: ${pool.used}/${pool.seats} seats used, ${pool.demand} asked for in this run`,
    );
  }
  if (report.held) {
    lines.push(
      `  HELD           ${report.held.count} suspensions/deletions exceed the threshold of ${report.held.threshold} ` +
        `(${report.held.linkedUsers} linked users). Review, then: entra-sync approve --run ${report.runId}`,
    );
  }
  if (report.approval) {
    lines.push(
      `  approved       ${report.approval.applied} applied, ${report.approval.skipped} skipped (changed since)`,
    );
  }
  if (report.exceptions.length > 0) {
    lines.push(`  exceptions     ${report.exceptions.length + report.moreExceptions}:`);
    for (const exception of report.exceptions.slice(0, 20)) {
      lines.push(`    - ${exception.user} [${exception.situation}] ${exception.reason}`);
    }
    const more = report.exceptions.length - 20 + report.moreExceptions;
    if (more > 0) lines.push(`    ... and ${more} more (see the run log)`);
  }
  if (report.error) {
    lines.push(`  error          ${report.error.message}`);
    if (report.error.nextStep) lines.push(`  what to do     ${report.error.nextStep}`);
  }
  return lines.join('\n');
}

export function formatPreviewEntry(entry: RunLogEntry): string {
  const changes = entry.changes.map(
    (change) => `${change.attribute}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`,
  );
  const detail = changes.length > 0 ? `  {${changes.join('; ')}}` : '';
  return `${entry.action.padEnd(10)} ${entry.situation.padEnd(19)} ${entry.userName ?? entry.sourceId}${detail}`;
}

export function formatConnections(connections: readonly StoredConnection[]): string {
  if (connections.length === 0)
    return 'No connections yet. Apply one: entra-sync connections apply --file connection.json';
  return connections
    .map((connection) => {
      const consent = connection.consent
        ? `consented ${connection.consent.grantedAt}`
        : 'consent not recorded';
      const last = connection.lastRunId
        ? `last run ${connection.lastRunStatus ?? '?'} at ${connection.lastRunAt ?? '?'}`
        : 'never run';
      return `${connection.id.padEnd(24)} ${connection.enabled ? 'enabled ' : 'disabled'}  ${consent}; ${last}`;
    })
    .join('\n');
}

/** The fields of an app user that `users --json` promises, and the mapped attributes. */
export function userRecord(user: StoredUser): Record<string, unknown> {
  return {
    sourceId: user.sourceId,
    appUserId: user.appUserId,
    ...user.attributes,
    userName: user.attributes.userName ?? null,
    mail: user.attributes.mail ?? null,
    givenName: user.attributes.givenName ?? null,
    sn: user.attributes.sn ?? null,
    displayName: user.attributes.displayName ?? null,
    status: user.status,
    appGroups: user.appGroups,
    roles: user.roles,
    license: user.license === '' ? null : user.license,
    division: user.division,
  };
}

export function formatUser(user: StoredUser): string {
  const name = typeof user.attributes.userName === 'string' ? user.attributes.userName : user.sourceId;
  const groups = user.appGroups.length > 0 ? ` groups=${user.appGroups.join(',')}` : '';
  const license = user.license ? ` licence=${user.license}` : '';
  return `${user.status.padEnd(9)} ${name}${groups}${license}`;
}
