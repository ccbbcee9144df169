import { inspect } from 'node:util';

/**
 * Looks for a secret value anywhere in what a test collected: log lines, table entities, run reports,
 * errors (message, stack, cause chain, own properties), HTTP bodies. Besides the value as it is, it
 * looks for the encodings a value takes on its way into such places (URL and form encoding, JSON
 * escaping, base64, and for a base64url key its raw bytes as hex or standard base64). Reports where,
 * never the value itself, so that a failing test does not print the secret either.
 */

export interface SecretLeak {
  /** Where it was found, for example `logs[3].message` or `error.cause.details.body`. */
  readonly path: string;
  /** Which form of the secret was found. */
  readonly form: string;
  /** Which secret (its position in the list given), when several were searched for. */
  readonly secretIndex: number;
}

const MIN_SECRET_LENGTH = 8;

function formsOf(secret: string): { form: string; text: string }[] {
  const forms = new Map<string, string>([
    ['value', secret],
    ['url-encoded', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ x: secret }).toString().slice(2)],
    ['json-escaped', JSON.stringify(secret).slice(1, -1)],
    ['base64', Buffer.from(secret, 'utf8').toString('base64')],
    ['base64url', Buffer.from(secret, 'utf8').toString('base64url')],
  ]);
  // A base64url key is also recognisable by its bytes.
  if (/^[A-Za-z0-9_-]+={0,2}$/.test(secret)) {
    const bytes = Buffer.from(secret, 'base64url');
    if (bytes.length >= 16) {
      forms.set('decoded, as hex', bytes.toString('hex'));
      forms.set('decoded, as base64', bytes.toString('base64').replace(/=+$/, ''));
    }
  }
  const seen = new Set<string>();
  return [...forms.entries()]
    .filter(([, text]) => text.length >= MIN_SECRET_LENGTH && !seen.has(text) && seen.add(text))
    .map(([form, text]) => ({ form, text }));
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Every place one of `secrets` occurs in `haystack`. */
export function findSecretLeaks(
  haystack: unknown,
  secrets: string | readonly string[],
  rootName = 'value',
): SecretLeak[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  const patterns = list.map((secret, index) => {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `Secret #${index} is shorter than ${MIN_SECRET_LENGTH} characters: too short to recognise.`,
      );
    }
    return formsOf(secret);
  });
  const leaks: SecretLeak[] = [];
  const seenObjects = new WeakSet<object>();

  const checkText = (text: string, path: string): void => {
    patterns.forEach((forms, secretIndex) => {
      for (const { form, text: needle } of forms) {
        if (text.includes(needle)) leaks.push({ path, form, secretIndex });
      }
    });
  };

  const walk = (value: unknown, path: string, depth: number): void => {
    if (depth > 40) return;
    if (typeof value === 'string') {
      checkText(value, path);
      return;
    }
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'function') checkText(value.name, path);
      return;
    }
    if (seenObjects.has(value)) return;
    seenObjects.add(value);
    if (value instanceof Uint8Array) {
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      checkText(bytes.toString('utf8'), `${path} (bytes as utf8)`);
      checkText(bytes.toString('hex'), `${path} (bytes as hex)`);
      return;
    }
    if (value instanceof URLSearchParams || value instanceof URL) {
      checkText(value.toString(), path);
      return;
    }
    if (value instanceof Date) return;
    if (value instanceof Map) {
      let index = 0;
      for (const [key, entry] of value) {
        walk(key, `${path}.<key ${index}>`, depth + 1);
        walk(entry, `${path}.<value ${index}>`, depth + 1);
        index += 1;
      }
      return;
    }
    if (value instanceof Set) {
      let index = 0;
      for (const entry of value) walk(entry, `${path}.<entry ${index++}>`, depth + 1);
      return;
    }
    if (value instanceof Error) {
      checkText(value.name, childPath(path, 'name'));
      checkText(value.message, childPath(path, 'message'));
      if (value.stack !== undefined) checkText(value.stack, childPath(path, 'stack'));
      if (value.cause !== undefined) walk(value.cause, childPath(path, 'cause'), depth + 1);
    }
    if (Array.isArray(value)) {
      value.forEach((entry, index) => {
        walk(entry, childPath(path, index), depth + 1);
      });
      return;
    }
    for (const key of Object.keys(value)) {
      checkText(key, `${childPath(path, key)} (key)`);
      let entry: unknown;
      try {
        entry = (value as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      walk(entry, childPath(path, key), depth + 1);
    }
  };

  walk(haystack, rootName, 0);
  // What a logger would print: catches values held where the walk does not look (getters, symbols).
  if (leaks.length === 0 && typeof haystack === 'object' && haystack !== null) {
    checkText(inspect(haystack, { depth: 12, getters: true, showHidden: true }), `${rootName} (inspected)`);
  }
  return leaks;
}

/** Throws, naming where (never what), when one of `secrets` occurs in `haystack`. */
export function expectNoSecretLeak(
  haystack: unknown,
  secrets: string | readonly string[],
  rootName = 'value',
): void {
  const leaks = findSecretLeaks(haystack, secrets, rootName);
  if (leaks.length > 0) {
    const where = leaks.map((leak) => `  secret #${leak.secretIndex} (${leak.form}) at ${leak.path}`);
    throw new Error(`A secret leaked into ${rootName}:\n${where.join('\n')}`);
  }
}
