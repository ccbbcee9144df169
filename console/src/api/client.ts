import { ApiError, errorFromResponse } from './errors.js';

/** Gives a current access token for the admin API, or never resolves when the page must redirect to sign in. */
export type TokenSource = () => Promise<string>;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
}

/**
 * Calls the admin API with the signed-in administrator's token. Paths are relative to the API's root
 * (…/api/), so the console works under any host and path prefix.
 */
export class ApiClient {
  readonly #root: URL;
  readonly #token: TokenSource;
  readonly #onForbidden: (error: ApiError) => void;

  constructor(root: URL, token: TokenSource, onForbidden: (error: ApiError) => void) {
    this.#root = root;
    this.#token = token;
    this.#onForbidden = onForbidden;
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return await this.request<T>('GET', path, query ? { query } : {});
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(path, this.#root);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${await this.#token()}`,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(
        0,
        'network',
        `The EntraSync API did not answer (${error instanceof Error ? error.message : String(error)}).`,
        'Check your network connection and that the Function app is running, then try again.',
      );
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON: a gateway's error page, for instance. The status still says enough.
    }
    if (!response.ok) {
      const error = errorFromResponse(response.status, response.statusText, body);
      if (response.status === 403 && error.code === 'forbidden') this.#onForbidden(error);
      throw error;
    }
    // The API is ours and versioned with the console; its answers are trusted to have the documented shape.
    return body as T;
  }
}

/** The admin API root for a console served at …/api/console/: one level up. */
export function apiRootFor(consoleBase: URL): URL {
  return new URL('../', consoleBase);
}
