import type { ConnectionView } from '../api/types.js';
import { formatDateTime, formatRelative } from './format.js';
import { nextSync } from './next-sync.js';

/** A connection's health in words: what needs a person's attention, and when it syncs next. */
export interface Attention {
  readonly tone: 'bad' | 'warn' | 'neutral';
  readonly text: string;
}

export function attentionOf(connection: ConnectionView): Attention[] {
  const items: Attention[] = [];
  if (!connection.enabled) items.push({ tone: 'neutral', text: 'Disabled' });
  if (connection.consent === null) items.push({ tone: 'warn', text: 'Admin consent needed' });
  if (connection.lastRun?.status === 'failed') items.push({ tone: 'bad', text: 'Last run failed' });
  if (connection.lastRun?.status === 'deletions_held')
    items.push({ tone: 'warn', text: 'Deletions held for approval' });
  return items;
}

export function nextSyncText(connection: ConnectionView, now = new Date()): { text: string; title?: string } {
  if (!connection.enabled) return { text: 'Not scheduled (disabled)' };
  const last = connection.lastRun?.at ? new Date(connection.lastRun.at) : null;
  const next = nextSync(connection.document.schedule, last, now);
  switch (next.kind) {
    case 'every-timer-run':
      return { text: 'At every timer run' };
    case 'due-now':
      return { text: 'Due at the next timer run' };
    case 'at':
      return {
        text: formatRelative(next.at.toISOString(), now.getTime()),
        title: formatDateTime(next.at.toISOString()),
      };
    case 'invalid':
      return { text: `Schedule invalid: ${next.message}` };
  }
}

export function connectionName(connection: ConnectionView): string {
  return connection.document.displayName ?? connection.id;
}
