import type { HeldAction } from '../api/types.js';
import { capitalize, countOf, joinWords } from './format.js';

const VERBS: readonly [HeldAction, string][] = [
  ['SUSPEND', 'suspend'],
  ['DELETE', 'delete'],
  ['UNLINK', 'unlink'],
];

/** Exactly what approving held removals does, e.g. "Suspend 12 users and delete 480 users in division Contoso". */
export function approvalSentence(actions: Partial<Record<HeldAction, number>>, division: string): string {
  const parts = VERBS.flatMap(([action, verb]) => {
    const count = actions[action] ?? 0;
    return count > 0 ? [`${verb} ${countOf(count, 'user')}`] : [];
  });
  if (parts.length === 0) return `Change no users in division ${division}`;
  return `${capitalize(joinWords(parts))} in division ${division}`;
}
