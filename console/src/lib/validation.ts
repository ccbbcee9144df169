import { validateConnectionConfig } from '../../../shared/config/connection.js';
import { normalizePath, type FieldIssue } from '../api/errors.js';
import type { ConnectionConfigDocument } from '../api/types.js';

/**
 * Connection documents are checked in the browser with the very schema the API uses
 * (shared/config/connection.ts), so a form shows the API's own messages before anything is sent.
 */
export type FieldErrors = ReadonlyMap<string, string>;

export const NO_ERRORS: FieldErrors = new Map();

export function validateDocument(document: ConnectionConfigDocument): readonly FieldIssue[] {
  const validation = validateConnectionConfig(document);
  if (validation.ok) return [];
  return validation.issues.map((issue) => ({ path: normalizePath(issue.path), message: issue.message }));
}

export function fieldErrors(issues: readonly FieldIssue[]): FieldErrors {
  const errors = new Map<string, string>();
  for (const issue of issues) if (!errors.has(issue.path)) errors.set(issue.path, issue.message);
  return errors;
}

/** The first error at one of these paths or below it (clientSecret covers clientSecret.env). */
export function errorAt(errors: FieldErrors, ...paths: string[]): string | undefined {
  for (const [path, message] of errors) {
    if (paths.some((wanted) => path === wanted || path.startsWith(`${wanted}.`))) return message;
  }
  return undefined;
}

/** A path as the documentation writes it: scope.filters[0].clauses[1].value. */
export function displayPath(path: string): string {
  return path === '' ? '(document)' : path.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}
