import type { GroupProperty, UserProperty } from './model.js';
import type { SimulatedTenant } from './tenant-model.js';

/**
 * JSON for directory objects, written as string fragments into one array per response and joined once.
 * Building an object per user for JSON.stringify, or a string per user for a page-wide join, was the
 * simulator's largest cost when serving 999-user pages (V8 flattens every concatenated string again).
 */

// eslint-disable-next-line no-control-regex -- these are exactly the characters JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON for a string; skips JSON.stringify for the common case of nothing to escape. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

export function jsonValue(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/**
 * The fragments between values: for key i, whether the value before was a string (its closing quote)
 * and whether this one is (its opening quote), so a string property costs two fragments.
 */
interface KeyFragments {
  /** Index: (previous value was a string ? 2 : 0) + (this value is a string ? 1 : 0); first key has no comma. */
  readonly first: readonly string[];
  readonly next: readonly string[];
}

const FRAGMENTS = new Map<string, KeyFragments>();

function fragmentsOf(key: string): KeyFragments {
  let cached = FRAGMENTS.get(key);
  if (!cached) {
    const name = JSON.stringify(key);
    const variants = (comma: string): string[] =>
      [0, 1, 2, 3].map((v) => `${v & 2 ? '"' : ''}${comma}${name}:${v & 1 ? '"' : ''}`);
    cached = { first: variants(''), next: variants(',') };
    FRAGMENTS.set(key, cached);
  }
  return cached;
}

export interface ObjectJsonOptions {
  /** Written first, for example '"@odata.type":"#microsoft.graph.user"'. */
  readonly prefix?: string;
  /**
   * Omit null values except for these properties. Delta leaves out properties that were never set and
   * includes a property changed to null (user-delta.md, "Default: return the same properties").
   */
  readonly omitNullExcept?: ReadonlySet<string>;
  /** Written last, for example '"members@delta":[...]'. */
  readonly suffix?: string;
}

const NO_OPTIONS: ObjectJsonOptions = {};

/**
 * Appends one object's JSON to `out`. `trusted` says the string values need no escaping (they come
 * from the generator's word lists, which a test checks).
 */
function writeObject(
  out: string[],
  props: readonly string[],
  values: readonly unknown[],
  trusted: boolean,
  options: ObjectJsonOptions,
): void {
  out.push('{');
  let first = true;
  if (options.prefix) {
    out.push(options.prefix);
    first = false;
  }
  const omit = options.omitNullExcept;
  let previousString = 0;
  for (let i = 0; i < props.length; i++) {
    const key = props[i] ?? '';
    const value = values[i];
    if (value === null && omit && !omit.has(key)) continue;
    const fragments = fragmentsOf(key);
    if (typeof value === 'string' && (trusted || !NEEDS_ESCAPE.test(value))) {
      out.push((first ? fragments.first : fragments.next)[previousString + 1] ?? '', value);
      previousString = 2;
    } else {
      out.push((first ? fragments.first : fragments.next)[previousString] ?? '', jsonValue(value));
      previousString = 0;
    }
    first = false;
  }
  if (previousString) out.push('"');
  if (options.suffix) out.push(first ? options.suffix : `,${options.suffix}`);
  out.push('}');
}

const scratchValues: unknown[] = [];

/** Appends a user's JSON with the given properties, in that order. */
export function writeUser(
  out: string[],
  tenant: SimulatedTenant,
  index: number,
  props: readonly UserProperty[],
  options: ObjectJsonOptions = NO_OPTIONS,
): void {
  const generated = tenant.userValues(index, props, scratchValues);
  writeObject(out, props, scratchValues, generated, options);
}

/** Appends a group's JSON with the given properties, in that order. */
export function writeGroup(
  out: string[],
  tenant: SimulatedTenant,
  index: number,
  props: readonly GroupProperty[],
  options: ObjectJsonOptions = NO_OPTIONS,
): void {
  const record = tenant.groupAt(index);
  writeObject(
    out,
    props,
    props.map((p) => record[p]),
    false,
    options,
  );
}

export function userJson(
  tenant: SimulatedTenant,
  index: number,
  props: readonly UserProperty[],
  options: ObjectJsonOptions = NO_OPTIONS,
): string {
  const out: string[] = [];
  writeUser(out, tenant, index, props, options);
  return out.join('');
}

export function groupJson(
  tenant: SimulatedTenant,
  index: number,
  props: readonly GroupProperty[],
  options: ObjectJsonOptions = NO_OPTIONS,
): string {
  const out: string[] = [];
  writeGroup(out, tenant, index, props, options);
  return out.join('');
}

/**
 * Collects the items of one collection response as fragments; `item()` starts the next item (writing
 * the comma between items).
 */
export class ItemWriter {
  readonly out: string[] = [''];
  private items = 0;

  /** Call before writing an item's fragments. */
  item(): string[] {
    if (this.items++ > 0) this.out.push(',');
    return this.out;
  }

  /** Adds an item already rendered as a string. */
  add(json: string): void {
    this.item().push(json);
  }

  get count(): number {
    return this.items;
  }
}

/** A collection response body: annotations before and after the value array, as Graph orders them. */
export function collectionJson(
  head: Readonly<Record<string, string | number | undefined>>,
  items: ItemWriter | readonly string[],
  tail: Readonly<Record<string, string | undefined>> = {},
): string {
  let start = '{';
  for (const [key, value] of Object.entries(head)) {
    if (value === undefined) continue;
    start += `${JSON.stringify(key)}:${typeof value === 'number' ? String(value) : jsonString(value)},`;
  }
  let end = ']';
  for (const [key, value] of Object.entries(tail)) {
    if (value === undefined) continue;
    end += `,${JSON.stringify(key)}:${jsonString(value)}`;
  }
  end += '}';
  if (items instanceof ItemWriter) {
    items.out[0] = `${start}"value":[`;
    items.out.push(end);
    return items.out.join('');
  }
  return `${start}"value":[${items.join(',')}${end}`;
}
