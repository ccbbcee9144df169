import { z } from 'zod';

/**
 * Compares the SHAPE of a simulator answer with a documented Graph example: status, the headers the
 * example shows, top-level keys and annotations, the form of @odata.context and of next and delta
 * links (same path, same query parameter), item annotations (@odata.type, @removed and its reason,
 * members@delta and its entries) and which properties items carry. Values are not compared: the
 * examples' values are Microsoft's, the simulator's are generated.
 */

export const exampleSchema = z.object({
  source: z.string(),
  request: z
    .object({
      method: z.string(),
      url: z.string(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .nullable(),
  response: z.object({
    status: z.number().nullable(),
    headers: z.record(z.string(), z.string()).nullable(),
    body: z.unknown(),
  }),
});
export type GraphExample = z.infer<typeof exampleSchema>;

export interface Observed {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface CompareOptions {
  /** Item annotations the simulator adds that this example leaves out (say why at the call). */
  readonly extraItemAnnotations?: readonly string[];
  /** Item annotations the example shows that the simulator leaves out on purpose. */
  readonly optionalItemAnnotations?: readonly string[];
  /** Properties the example shows that the simulator does not model. */
  readonly ignoreProperties?: readonly string[];
  /** The answer is a Prefer: return=minimal one: some item must lack some selected property. */
  readonly minimal?: boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{11,12}/gi;

/** A URL's path with ids and the docs' {id} placeholder as {id}, and its query parameter names. */
function linkForm(link: string): string {
  const url = new URL(link.replace(/\{id\}/g, '00000000-0000-4000-8000-000000000000'));
  const path = url.pathname.replace(GUID, '{id}').toLowerCase();
  const params = [...url.searchParams.keys()].map((k) => k.toLowerCase()).sort();
  return `${path}?${params.join('&')}`;
}

/** The entity set of an @odata.context ('users', 'groups', 'directoryObjects'), and whether it lists properties. */
function contextForm(context: string): string {
  const fragment = context.slice(context.indexOf('#') + 1);
  const match = /^([A-Za-z.]+)(\(.*?\))?(\/\$entity)?$/.exec(fragment);
  if (!match) return `unparsed:${fragment}`;
  return `${match[1] ?? ''}${match[2] ? '(...)' : ''}${match[3] ?? ''}`;
}

function removedReason(item: Json): string | undefined {
  const removed = item['@removed'];
  return isObject(removed) && typeof removed.reason === 'string' ? removed.reason : undefined;
}

function annotationsOf(item: Json, membersShown: boolean): string[] {
  const result: string[] = [];
  for (const key of Object.keys(item)) {
    if (!key.includes('@')) continue;
    result.push(key === '@removed' ? `@removed(reason=${removedReason(item) ?? '?'})` : key);
  }
  if (membersShown && !('members@delta' in item) && removedReason(item) === undefined)
    result.push('(no members@delta)');
  return result;
}

function memberPatterns(item: Json): string[] {
  const entries = item['members@delta'];
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).map((entry) =>
    Object.keys(entry)
      .map((k) => (k === '@removed' ? `@removed(reason=${removedReason(entry) ?? '?'})` : k))
      .sort()
      .join(','),
  );
}

function propertiesOf(item: Json): string[] {
  return Object.keys(item).filter((k) => !k.includes('@'));
}

function selectedProperties(example: GraphExample): string[] | undefined {
  if (!example.request) return undefined;
  const url = new URL(example.request.url.replace(/\{id\}/g, 'id'));
  for (const [name, value] of url.searchParams) {
    if (name.toLowerCase() === '$select')
      return value
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== 'members');
  }
  return undefined;
}

function difference(a: Iterable<string>, b: Iterable<string>): string[] {
  const other = new Set(b);
  return [...new Set(a)].filter((x) => !other.has(x));
}

/** Every way the observed answer differs in shape from the example; empty when they agree. */
export function compareShapes(
  example: GraphExample,
  observed: Observed,
  options: CompareOptions = {},
): string[] {
  const problems: string[] = [];
  const expected = example.response;
  if (expected.status !== null && expected.status !== observed.status) {
    problems.push(`status ${observed.status}, documented ${expected.status}`);
  }
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'content-type') {
      const want = value.split(';')[0]?.trim();
      const got = observed.headers['content-type']?.split(';')[0]?.trim();
      if (want !== got) problems.push(`content-type ${got ?? 'none'}, documented ${want ?? ''}`);
      continue;
    }
    const got = observed.headers[lower];
    if (got === undefined) problems.push(`header ${name} missing`);
    else if (lower === 'retry-after' && !/^\d+(\.\d+)?$/.test(got))
      problems.push(`Retry-After '${got}' is not seconds`);
  }

  if (typeof expected.body === 'string') {
    if (typeof observed.body !== 'string' || !/^\d+$/.test(observed.body.trim()))
      problems.push('body is not a plain-text count');
    return problems;
  }
  if (!isObject(expected.body) || !isObject(observed.body)) {
    problems.push('body is not a JSON object');
    return problems;
  }
  const doc = expected.body;
  const got = observed.body;

  if (isObject(doc.error)) {
    if (!isObject(got.error)) return [...problems, 'no error object'];
    const missing = difference([...Object.keys(doc.error), 'code', 'message'], Object.keys(got.error));
    if (missing.length > 0) problems.push(`error lacks ${missing.join(', ')}`);
    const docInner = doc.error.innerError;
    const gotInner = got.error.innerError;
    if (isObject(docInner)) {
      if (!isObject(gotInner)) problems.push('error lacks innerError');
      else {
        const innerMissing = difference(Object.keys(docInner), Object.keys(gotInner));
        if (innerMissing.length > 0) problems.push(`innerError lacks ${innerMissing.join(', ')}`);
      }
    }
    return problems;
  }

  // Top-level keys. Some doc bodies omit @odata.context although Graph sends it; allow that one extra.
  const missingTop = difference(Object.keys(doc), Object.keys(got));
  const extraTop = difference(Object.keys(got), Object.keys(doc)).filter(
    (k) => !(k === '@odata.context' && !('@odata.context' in doc)),
  );
  if (missingTop.length > 0) problems.push(`top-level keys missing: ${missingTop.join(', ')}`);
  if (extraTop.length > 0) problems.push(`top-level keys not documented: ${extraTop.join(', ')}`);

  if (typeof doc['@odata.context'] === 'string' && typeof got['@odata.context'] === 'string') {
    const want = contextForm(doc['@odata.context']);
    const have = contextForm(got['@odata.context']);
    if (want.toLowerCase() !== have.toLowerCase())
      problems.push(`@odata.context form ${have}, documented ${want}`);
  }
  for (const key of ['@odata.nextLink', '@odata.deltaLink']) {
    const docLink = doc[key];
    const gotLink = got[key];
    if (
      typeof docLink === 'string' &&
      typeof gotLink === 'string' &&
      linkForm(docLink) !== linkForm(gotLink)
    ) {
      problems.push(`${key} form ${linkForm(gotLink)}, documented ${linkForm(docLink)}`);
    }
  }
  if ('@odata.count' in doc && typeof got['@odata.count'] !== 'number')
    problems.push('@odata.count is not a number');

  if (Array.isArray(doc.value)) {
    if (!Array.isArray(got.value)) return [...problems, 'no value array'];
    const docItems = doc.value.filter(isObject);
    const gotItems = got.value.filter(isObject);
    if (docItems.length > 0 && gotItems.length === 0) problems.push('value is empty, documented with items');
    if (docItems.length === 0 && gotItems.length > 0) problems.push('value has items, documented empty');

    const membersShown = docItems.some((i) => 'members@delta' in i);
    const docAnnotations = docItems.flatMap((i) => annotationsOf(i, membersShown));
    const gotAnnotations = gotItems.flatMap((i) => annotationsOf(i, membersShown));
    const unseen = difference(docAnnotations, [
      ...gotAnnotations,
      ...(options.optionalItemAnnotations ?? []),
    ]);
    const undocumented = difference(gotAnnotations, [
      ...docAnnotations,
      ...(options.extraItemAnnotations ?? []),
    ]);
    if (unseen.length > 0) problems.push(`item annotations not produced: ${unseen.join('; ')}`);
    if (undocumented.length > 0) problems.push(`item annotations not documented: ${undocumented.join('; ')}`);

    const docEntries = docItems.flatMap(memberPatterns);
    const gotEntries = gotItems.flatMap(memberPatterns);
    const entriesUnseen = difference(docEntries, gotEntries);
    const entriesUndocumented = difference(gotEntries, docEntries);
    if (entriesUnseen.length > 0)
      problems.push(`members@delta entries not produced: ${entriesUnseen.join('; ')}`);
    if (entriesUndocumented.length > 0)
      problems.push(`members@delta entries not documented: ${entriesUndocumented.join('; ')}`);

    const present = gotItems.filter((i) => removedReason(i) === undefined);
    const selected = selectedProperties(example);
    if (selected) {
      const allowed = new Set([...selected, 'id']);
      const outside = difference(present.flatMap(propertiesOf), allowed);
      if (outside.length > 0) problems.push(`properties outside $select: ${outside.join(', ')}`);
      if (options.minimal && !present.some((i) => selected.some((p) => !(p in i)))) {
        problems.push('return=minimal, yet every item has every selected property');
      }
    } else {
      const docProps = docItems.filter((i) => removedReason(i) === undefined).flatMap(propertiesOf);
      const lacking = difference(docProps, [
        ...present.flatMap(propertiesOf),
        ...(options.ignoreProperties ?? []),
      ]);
      if (lacking.length > 0) problems.push(`documented properties never served: ${lacking.join(', ')}`);
    }
  }
  return problems;
}
