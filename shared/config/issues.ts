/**
 * Turns zod's issues into one line per problem, each naming its path (scope.filters[0].clauses[1].value)
 * so that an administrator can find the spot in the document.
 */
import type { z } from 'zod';

export interface ConfigIssue {
  /** Dotted path with [index] for arrays; '' for the document itself. */
  readonly path: string;
  readonly message: string;
}

type Issue = z.core.$ZodIssue;

export function describeIssues(
  issues: readonly Issue[],
  basePath: readonly PropertyKey[] = [],
): ConfigIssue[] {
  return issues.flatMap((issue) => describeIssue(issue, [...basePath, ...issue.path]));
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

function describeIssue(issue: Issue, path: readonly PropertyKey[]): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      message:
        'unknown key; check the spelling (unknown keys are rejected so that typos cannot pass silently)',
    }));
  }
  if (issue.code === 'invalid_union') {
    // A union says only "invalid input". When exactly one alternative has the input's shape, its own
    // issues say what is wrong; otherwise the union's message lists the accepted forms.
    const shaped = issue.errors.filter((branch) => branch.every((inner) => !isShapeMismatch(inner)));
    const [only] = shaped;
    if (shaped.length === 1 && only !== undefined) return describeIssues(only, path);
  }
  return [{ path: formatPath(path), message: issue.message }];
}

function isShapeMismatch(issue: Issue): boolean {
  return (
    issue.path.length === 0 &&
    (issue.code === 'invalid_type' || issue.code === 'unrecognized_keys' || issue.code === 'invalid_union')
  );
}
