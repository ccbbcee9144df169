import { randomBytes } from 'node:crypto';

/** A table or queue name no other test uses: letters and digits only, as tables require. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`.toLowerCase();
}
