/**
 * What went wrong with an API call, in the words the API used: every error answer is
 * `{ error: { code, message, details? } }`, and details may carry the next step or the invalid fields.
 */

export interface FieldIssue {
  /** Dotted path with numeric segments, e.g. scope.filters.0.clauses.1.value; '' for the document. */
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly nextStep: string | null = null,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Paths arrive in two spellings: request validation joins zod's path with dots (groupMappings.0.license),
 * connection validation writes brackets (groupMappings[0].license). Forms key on the dotted one.
 */
export function normalizePath(path: string): string {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\["((?:[^"\\]|\\.)*)"\]/g, '.$1')
    .replace(/^\./, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issuesFrom(value: unknown): FieldIssue[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) =>
    isRecord(item) && typeof item.message === 'string'
      ? [{ path: normalizePath(typeof item.path === 'string' ? item.path : ''), message: item.message }]
      : [],
  );
}

/** Reads an error answer; anything else (a proxy's HTML page, an empty body) still becomes an ApiError. */
export function errorFromResponse(status: number, statusText: string, body: unknown): ApiError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  if (!error) {
    return new ApiError(status, `http_${status}`, `The server answered ${status} ${statusText}.`.trim());
  }
  const code = typeof error.code === 'string' ? error.code : `http_${status}`;
  const message = typeof error.message === 'string' ? error.message : `The server answered ${status}.`;
  const details = error.details;
  let nextStep: string | null = null;
  let issues = issuesFrom(details);
  if (isRecord(details)) {
    if (typeof details.nextStep === 'string') nextStep = details.nextStep;
    const info = isRecord(details.info) ? details.info : details;
    issues = issuesFrom(info.issues);
  }
  return new ApiError(status, code, message, nextStep, issues);
}

/** A message for any failure, for places that only show text. */
export function describeError(error: unknown): { message: string; nextStep: string | null } {
  if (error instanceof ApiError) return { message: error.message, nextStep: error.nextStep };
  if (error instanceof Error) return { message: error.message, nextStep: null };
  // A run report's error: { code, message, nextStep }.
  if (isRecord(error) && typeof error.message === 'string') {
    return { message: error.message, nextStep: typeof error.nextStep === 'string' ? error.nextStep : null };
  }
  return { message: String(error), nextStep: null };
}
