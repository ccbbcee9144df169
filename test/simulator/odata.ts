import { GraphHttpError, badRequest, unsupportedQuery } from './graph-errors.js';

/**
 * The OData query options the simulator understands: $select, $top, $count, a small $filter language,
 * and the names of the ones it refuses. Only $-prefixed names count, as on Graph v1.0 (the prefix is
 * optional only on beta); names are case-insensitive.
 */

export interface QueryOptions {
  readonly select: string | undefined;
  readonly top: string | undefined;
  readonly filter: string | undefined;
  readonly count: string | undefined;
  readonly orderby: string | undefined;
  readonly search: string | undefined;
  readonly expand: string | undefined;
  readonly skip: string | undefined;
  readonly skiptoken: string | undefined;
  readonly deltatoken: string | undefined;
}

export function readQueryOptions(params: URLSearchParams): QueryOptions {
  const found = new Map<string, string>();
  for (const [name, value] of params) {
    if (name.startsWith('$')) found.set(name.slice(1).toLowerCase(), value);
  }
  return {
    select: found.get('select'),
    top: found.get('top'),
    filter: found.get('filter'),
    count: found.get('count'),
    orderby: found.get('orderby'),
    search: found.get('search'),
    expand: found.get('expand'),
    skip: found.get('skip'),
    skiptoken: found.get('skiptoken'),
    deltatoken: found.get('deltatoken'),
  };
}

/**
 * Resolves a $select list against the properties of a type (case-insensitively, to their canonical
 * names, without duplicates). `extra` names navigation properties allowed here (members on group delta).
 */
export function parseSelect(
  raw: string | undefined,
  properties: readonly string[],
  typeName: string,
  extra: readonly string[] = [],
): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const byLower = new Map([...properties, ...extra].map((p) => [p.toLowerCase(), p]));
  const selected: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    const canonical = byLower.get(name.toLowerCase());
    if (!canonical) {
      throw badRequest(
        `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`,
      );
    }
    if (!selected.includes(canonical)) selected.push(canonical);
  }
  return selected;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 999;

/** $top for directory collections: 1 to 999, 100 by default (paging.md). */
export function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw new GraphHttpError(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${raw}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
    );
  }
  return value;
}

export function parseCountFlag(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  if (raw.toLowerCase() === 'true') return true;
  if (raw.toLowerCase() === 'false') return false;
  throw badRequest(`Invalid value '${raw}' for $count; expected true or false.`);
}

// ---- $filter ----

export type FilterLiteral = string | number | boolean | null;

export type FilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: FilterExpr; readonly right: FilterExpr }
  | { readonly kind: 'not'; readonly expr: FilterExpr }
  | {
      readonly kind: 'compare';
      readonly op: 'eq' | 'ne';
      readonly prop: string;
      readonly value: FilterLiteral;
    }
  | { readonly kind: 'in'; readonly prop: string; readonly values: readonly FilterLiteral[] }
  | {
      readonly kind: 'call';
      readonly fn: 'startswith' | 'endswith';
      readonly prop: string;
      readonly value: string;
    };

type Token =
  | { readonly t: 'ident'; readonly v: string }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly v: number }
  | { readonly t: 'punct'; readonly v: '(' | ')' | ',' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw badRequest(`Invalid filter clause: unterminated string in '${text}'.`);
        const d = text.charAt(i);
        if (d === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ t: 'string', v: value });
    } else if (/[-\d]/.test(c)) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!match) throw badRequest(`Invalid filter clause: unexpected '${c}'.`);
      tokens.push({ t: 'number', v: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][\w./]*/.exec(text.slice(i));
      const word = match?.[0] ?? c;
      tokens.push({ t: 'ident', v: word });
      i += word.length;
    } else {
      throw badRequest(`Invalid filter clause: unexpected '${c}'.`);
    }
  }
  return tokens;
}

class FilterParser {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly text: string,
  ) {}

  parse(): FilterExpr {
    const expr = this.or();
    if (this.pos < this.tokens.length) throw this.error();
    return expr;
  }

  private error(): GraphHttpError {
    return badRequest(`Invalid filter clause: syntax error at position ${this.pos} in '${this.text}'.`);
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.pos];
    return token?.t === 'ident' ? token.v.toLowerCase() : undefined;
  }

  private expectPunct(v: '(' | ')' | ','): void {
    const token = this.tokens[this.pos];
    if (token?.t !== 'punct' || token.v !== v) throw this.error();
    this.pos++;
  }

  private or(): FilterExpr {
    let left = this.and();
    while (this.peekWord() === 'or') {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterExpr {
    let left = this.unary();
    while (this.peekWord() === 'and') {
      this.pos++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterExpr {
    const token = this.tokens[this.pos];
    if (!token) throw this.error();
    if (token.t === 'ident' && token.v.toLowerCase() === 'not') {
      this.pos++;
      return { kind: 'not', expr: this.unary() };
    }
    if (token.t === 'punct' && token.v === '(') {
      this.pos++;
      const expr = this.or();
      this.expectPunct(')');
      return expr;
    }
    if (token.t !== 'ident') throw this.error();
    const name = token.v;
    this.pos++;
    const lower = name.toLowerCase();
    const next = this.tokens[this.pos];
    if ((lower === 'startswith' || lower === 'endswith') && next?.t === 'punct' && next.v === '(') {
      this.pos++;
      const prop = this.ident();
      this.expectPunct(',');
      const value = this.literal();
      this.expectPunct(')');
      if (typeof value !== 'string') throw this.error();
      return { kind: 'call', fn: lower, prop, value };
    }
    if (name.includes('/')) {
      throw unsupportedQuery(`The simulator does not support lambda or path filters ('${name}').`);
    }
    const op = this.peekWord();
    if (op === 'eq' || op === 'ne') {
      this.pos++;
      return { kind: 'compare', op, prop: name, value: this.literal() };
    }
    if (op === 'in') {
      this.pos++;
      this.expectPunct('(');
      const values: FilterLiteral[] = [this.literal()];
      while (this.tokens[this.pos]?.t === 'punct' && this.tokens[this.pos]?.v === ',') {
        this.pos++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { kind: 'in', prop: name, values };
    }
    if (op === 'gt' || op === 'ge' || op === 'lt' || op === 'le') {
      throw unsupportedQuery(`The simulator does not support the '${op}' operator.`);
    }
    throw this.error();
  }

  private ident(): string {
    const token = this.tokens[this.pos];
    if (token?.t !== 'ident') throw this.error();
    this.pos++;
    return token.v;
  }

  private literal(): FilterLiteral {
    const token = this.tokens[this.pos];
    if (!token) throw this.error();
    this.pos++;
    if (token.t === 'string' || token.t === 'number') return token.v;
    if (token.t === 'ident') {
      const word = token.v.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw this.error();
  }
}

export function parseFilter(text: string): FilterExpr {
  return new FilterParser(tokenize(text), text).parse();
}

/** Properties a filter reads, with the spelling used in it. */
export function filterProperties(expr: FilterExpr): string[] {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return [...filterProperties(expr.left), ...filterProperties(expr.right)];
    case 'not':
      return filterProperties(expr.expr);
    default:
      return [expr.prop];
  }
}

/** True when the filter needs Graph's advanced query capabilities (ConsistencyLevel + $count). */
export function needsAdvancedQuery(expr: FilterExpr): string | undefined {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return needsAdvancedQuery(expr.left) ?? needsAdvancedQuery(expr.right);
    case 'not':
      return 'not';
    case 'compare':
      return expr.op === 'ne' ? 'ne' : undefined;
    case 'call':
      return expr.fn === 'endswith' ? 'endsWith' : undefined;
    case 'in':
      return undefined;
  }
}

function sameValue(actual: unknown, expected: FilterLiteral): boolean {
  if (typeof actual === 'string' && typeof expected === 'string')
    return actual.toLowerCase() === expected.toLowerCase();
  if (Array.isArray(actual)) return actual.some((item) => sameValue(item, expected));
  return actual === expected;
}

/** Evaluates a filter; `get` returns a property's value (canonical name resolved by the caller). */
export function evaluateFilter(expr: FilterExpr, get: (prop: string) => unknown): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluateFilter(expr.left, get) && evaluateFilter(expr.right, get);
    case 'or':
      return evaluateFilter(expr.left, get) || evaluateFilter(expr.right, get);
    case 'not':
      return !evaluateFilter(expr.expr, get);
    case 'compare': {
      const equal = sameValue(get(expr.prop), expr.value);
      return expr.op === 'eq' ? equal : !equal;
    }
    case 'in':
      return expr.values.some((value) => sameValue(get(expr.prop), value));
    case 'call': {
      const actual = get(expr.prop);
      if (typeof actual !== 'string') return false;
      const a = actual.toLowerCase();
      const v = expr.value.toLowerCase();
      return expr.fn === 'startswith' ? a.startsWith(v) : a.endsWith(v);
    }
  }
}

/**
 * The ids of a delta scoping filter: `id eq '...'`, possibly or-ed, at most 50 (user-delta.md,
 * "limited support for $filter"). Anything else is Request_UnsupportedQuery, as Graph answers.
 */
export function deltaFilterIds(text: string): string[] {
  const ids: string[] = [];
  const walk = (expr: FilterExpr): void => {
    if (expr.kind === 'or') {
      walk(expr.left);
      walk(expr.right);
    } else if (
      expr.kind === 'compare' &&
      expr.op === 'eq' &&
      expr.prop.toLowerCase() === 'id' &&
      typeof expr.value === 'string'
    ) {
      ids.push(expr.value.toLowerCase());
    } else {
      throw unsupportedQuery();
    }
  };
  let expr: FilterExpr;
  try {
    expr = parseFilter(text);
  } catch {
    throw unsupportedQuery();
  }
  walk(expr);
  if (ids.length > 50) throw unsupportedQuery('The delta filter supports at most 50 object ids.');
  return ids;
}
