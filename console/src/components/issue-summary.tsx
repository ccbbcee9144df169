import type { FieldIssue } from '../api/errors.js';
import { displayPath } from '../lib/validation.js';

/** Every problem with a document, listed above the form: some have no field of their own. */
export function IssueSummary({
  issues,
  title = 'Fix these before saving',
}: {
  issues: readonly FieldIssue[];
  title?: string;
}) {
  if (issues.length === 0) return null;
  return (
    <div class="alert alert-error" role="alert">
      <p class="alert-title">{title}</p>
      <ul>
        {issues.map((issue) => (
          <li key={`${issue.path}:${issue.message}`}>
            <code>{displayPath(issue.path)}</code>: {issue.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
