/**
 * Microsoft Graph's error envelope: {"error":{"code","message","innerError":{"date","request-id",
 * "client-request-id"}}} (concepts/errors.md). Route handlers throw GraphHttpError; the server writes it
 * once, with the request's ids.
 */

export class GraphHttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Extra innerError members (the throttling answer carries code and status strings there). */
  readonly inner: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; inner?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'GraphHttpError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.inner = options.inner ?? {};
  }
}

/** Graph writes innerError.date without fractions or zone: '2020-08-18T12:51:51'. */
export function graphDate(now = new Date()): string {
  return now.toISOString().slice(0, 19);
}

export function graphErrorBody(
  error: GraphHttpError,
  requestId: string,
  clientRequestId: string | undefined,
): string {
  return JSON.stringify({
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        ...error.inner,
        date: graphDate(),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  });
}

export function badRequest(message: string, code = 'BadRequest'): GraphHttpError {
  return new GraphHttpError(400, code, message);
}

export function unsupportedQuery(message = 'Unsupported Query.'): GraphHttpError {
  return new GraphHttpError(400, 'Request_UnsupportedQuery', message);
}

export function resourceNotFound(id: string): GraphHttpError {
  return new GraphHttpError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/** For features of Graph the simulator does not implement: plainly not a Graph answer. */
export function notSimulated(what: string): GraphHttpError {
  return new GraphHttpError(501, 'NotImplemented', `The Entra simulator does not implement ${what}.`);
}
