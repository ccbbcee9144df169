/**
 * Attribute expressions in Entra's own provisioning syntax, so administrators can reuse what they know:
 * `Coalesce([mail], [userPrincipalName])`, `Join(" ", [givenName], [surname])`, `"Contoso"`.
 * https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data
 *
 * An expression is parsed once, when the connection is validated; a syntax error, an unknown function,
 * a wrong number of arguments or an unknown property is reported with its 1-based position. Runs
 * evaluate the parsed tree. Function names are matched without regard to case (Entra's are
 * case-sensitive, but no meaning is lost by being lenient); property names are exact, as Graph's are.
 */
import { checkSourcePath, readSourcePath } from './source-properties.js';
import type { JsonValue, MappedValue, SourceProperties } from './types.js';

export type FunctionName =
  'Coalesce' | 'ToLower' | 'ToUpper' | 'Join' | 'Replace' | 'StripGuestSuffix' | 'Default';

export type Expression =
  | { readonly kind: 'attribute'; readonly path: string; readonly position: number }
  | { readonly kind: 'text'; readonly value: string; readonly position: number }
  | {
      readonly kind: 'call';
      readonly name: FunctionName;
      readonly args: readonly Expression[];
      readonly position: number;
    };

export type ParseResult =
  | { readonly ok: true; readonly expression: Expression }
  | { readonly ok: false; readonly message: string; readonly position: number };

interface FunctionDefinition {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly usage: string;
  readonly apply: (args: readonly MappedValue[]) => MappedValue;
}

const FUNCTIONS: Readonly<Record<FunctionName, FunctionDefinition>> = {
  Coalesce: {
    minArgs: 1,
    maxArgs: Infinity,
    usage: 'Coalesce(value, value, ...)',
    apply: (args) => args.find((value) => !isEmpty(value)) ?? null,
  },
  ToLower: { minArgs: 1, maxArgs: 1, usage: 'ToLower(value)', apply: ([value]) => mapText(value, lower) },
  ToUpper: { minArgs: 1, maxArgs: 1, usage: 'ToUpper(value)', apply: ([value]) => mapText(value, upper) },
  Join: {
    minArgs: 2,
    maxArgs: Infinity,
    usage: 'Join(separator, value, ...)',
    apply: ([separator, ...values]) => {
      // Empty values are skipped so that a missing middle name does not leave a double separator.
      const parts = values
        .flatMap((value): readonly MappedValue[] => (isList(value) ? value : [value]))
        .flatMap(textOrNothing);
      return parts.length === 0 ? null : parts.join(asText(separator ?? null) ?? '');
    },
  },
  Replace: {
    minArgs: 3,
    maxArgs: 3,
    usage: 'Replace(value, find, replacement)',
    apply: ([value, find, replacement]) => {
      const findText = asText(find ?? null);
      if (findText === null || findText === '') return value ?? null;
      const replacementText = asText(replacement ?? null) ?? '';
      return mapText(value, (text) => text.split(findText).join(replacementText));
    },
  },
  StripGuestSuffix: {
    minArgs: 1,
    maxArgs: 1,
    usage: 'StripGuestSuffix(value)',
    apply: ([value]) => mapText(value, stripGuestSuffix),
  },
  Default: {
    minArgs: 2,
    maxArgs: 2,
    usage: 'Default(value, fallback)',
    apply: ([value, fallback]) => (isEmpty(value ?? null) ? (fallback ?? null) : (value ?? null)),
  },
};

/** Lower-cased spellings admins are likely to type, including the short forms Lower and Upper. */
const FUNCTION_NAMES: ReadonlyMap<string, FunctionName> = new Map<string, FunctionName>([
  ...(Object.keys(FUNCTIONS) as FunctionName[]).map((name) => [name.toLowerCase(), name] as const),
  ['lower', 'ToLower'],
  ['upper', 'ToUpper'],
]);

/** Deep enough for any real mapping, shallow enough that a hostile document cannot exhaust the stack. */
const MAX_DEPTH = 32;

export function parseExpression(text: string): ParseResult {
  try {
    const parser = new Parser(text);
    return { ok: true, expression: parser.parseWhole() };
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) {
      return { ok: false, message: error.message, position: error.position };
    }
    throw error;
  }
}

export function evaluateExpression(expression: Expression, properties: SourceProperties): MappedValue {
  switch (expression.kind) {
    case 'text':
      return expression.value;
    case 'attribute':
      return toMappedValue(readSourcePath(properties, expression.path));
    case 'call':
      return FUNCTIONS[expression.name].apply(
        expression.args.map((arg) => evaluateExpression(arg, properties)),
      );
  }
}

/** The property paths an expression reads, in order of appearance, without repeats. */
export function referencedPaths(expression: Expression): string[] {
  const paths = new Set<string>();
  const visit = (node: Expression): void => {
    if (node.kind === 'attribute') paths.add(node.path);
    if (node.kind === 'call') node.args.forEach(visit);
  };
  visit(expression);
  return [...paths];
}

/**
 * Guests invited from another organisation get a UPN such as `alice_contoso.com#EXT#@fabrikam.onmicrosoft.com`:
 * their home address with `@` turned into `_`. Domain names cannot contain `_`, so the last one before
 * `#EXT#` is the `@`. Anything not of that shape is returned unchanged.
 */
export function stripGuestSuffix(value: string): string {
  const marker = value.toUpperCase().indexOf('#EXT#');
  if (marker < 0) return value;
  const encoded = value.slice(0, marker);
  const at = encoded.lastIndexOf('_');
  if (at <= 0 || at === encoded.length - 1) return value;
  return `${encoded.slice(0, at)}@${encoded.slice(at + 1)}`;
}

class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

class Parser {
  private index = 0;

  constructor(private readonly text: string) {}

  parseWhole(): Expression {
    this.skipSpace();
    if (this.atEnd()) this.fail('the expression is empty');
    const expression = this.parseExpression(0);
    this.skipSpace();
    if (!this.atEnd()) this.fail(`unexpected "${this.peek()}" after the end of the expression`);
    return expression;
  }

  private parseExpression(depth: number): Expression {
    if (depth > MAX_DEPTH) this.fail(`functions are nested more than ${MAX_DEPTH} deep`);
    this.skipSpace();
    const char = this.peek();
    if (char === '[') return this.parseAttribute();
    if (char === '"') return this.parseText();
    if (char !== undefined && /[A-Za-z]/.test(char)) return this.parseCall(depth);
    if (char === undefined) this.fail('the expression ends where a value was expected');
    return this.fail(`expected a function, an [attribute] or a "text" but found "${char}"`);
  }

  private parseAttribute(): Expression {
    const position = this.position();
    this.index++;
    const start = this.index;
    while (!this.atEnd() && this.peek() !== ']') this.index++;
    if (this.atEnd()) this.fail('"[" is not closed by "]"', position);
    const path = this.text.slice(start, this.index).trim();
    this.index++;
    if (path === '') this.fail('"[]" names no attribute', position);
    const check = checkSourcePath(path);
    if (!check.ok) this.fail(check.message, position);
    return { kind: 'attribute', path, position };
  }

  private parseText(): Expression {
    const position = this.position();
    this.index++;
    let value = '';
    for (;;) {
      const char = this.peek();
      if (char === undefined) return this.fail('text starting here has no closing quote', position);
      this.index++;
      if (char === '"') return { kind: 'text', value, position };
      if (char === '\\') {
        const escaped = this.peek();
        if (escaped === undefined) return this.fail('text starting here has no closing quote', position);
        value += escaped;
        this.index++;
      } else {
        value += char;
      }
    }
  }

  private parseCall(depth: number): Expression {
    const position = this.position();
    const start = this.index;
    while (!this.atEnd() && /[A-Za-z0-9_]/.test(this.peek() ?? '')) this.index++;
    const written = this.text.slice(start, this.index);
    this.skipSpace();
    if (this.peek() !== '(') {
      this.fail(
        `expected "(" after "${written}"; write text in double quotes, or use { "constant": ... } for a fixed value`,
      );
    }
    const name = FUNCTION_NAMES.get(written.toLowerCase());
    if (name === undefined) {
      this.fail(`unknown function "${written}"; known: ${Object.keys(FUNCTIONS).join(', ')}`, position);
    }
    this.index++;
    const args: Expression[] = [];
    this.skipSpace();
    if (this.peek() === ')') {
      this.index++;
    } else {
      for (;;) {
        args.push(this.parseExpression(depth + 1));
        this.skipSpace();
        const next = this.peek();
        if (next === ',') {
          this.index++;
          continue;
        }
        if (next === ')') {
          this.index++;
          break;
        }
        this.fail(
          next === undefined
            ? `"${written}(" is not closed by ")"`
            : `expected "," or ")" but found "${next}"`,
        );
      }
    }
    const definition = FUNCTIONS[name];
    if (args.length < definition.minArgs || args.length > definition.maxArgs) {
      this.fail(
        `${name} takes ${describeArity(definition)} (${definition.usage}) but was given ${args.length}`,
        position,
      );
    }
    return { kind: 'call', name, args, position };
  }

  private skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.peek() ?? '')) this.index++;
  }

  private peek(): string | undefined {
    return this.text[this.index];
  }

  private atEnd(): boolean {
    return this.index >= this.text.length;
  }

  private position(): number {
    return this.index + 1;
  }

  private fail(message: string, position = this.position()): never {
    throw new ExpressionSyntaxError(message, position);
  }
}

function describeArity(definition: FunctionDefinition): string {
  if (definition.maxArgs === Infinity) return `at least ${definition.minArgs} arguments`;
  if (definition.minArgs === definition.maxArgs) {
    return `${definition.minArgs} argument${definition.minArgs === 1 ? '' : 's'}`;
  }
  return `${definition.minArgs} to ${definition.maxArgs} arguments`;
}

function toMappedValue(value: JsonValue): MappedValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return (value as readonly JsonValue[]).flatMap(textOrNothing);
  return null;
}

function isList(value: MappedValue): value is readonly string[] {
  return Array.isArray(value);
}

function isEmpty(value: MappedValue | undefined): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

function asText(value: MappedValue | JsonValue): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return (value as readonly JsonValue[]).flatMap(textOrNothing).join(',');
  return null;
}

function textOrNothing(value: MappedValue | JsonValue): string[] {
  const text = asText(value);
  return text === null || text === '' ? [] : [text];
}

/** Applies a text function to a value: null stays null; each element of a multi-valued one is mapped. */
function mapText(value: MappedValue | undefined, transform: (text: string) => string): MappedValue {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return (value as readonly string[]).map(transform);
  return transform(asText(value) ?? '');
}

function lower(text: string): string {
  return text.toLowerCase();
}

function upper(text: string): string {
  return text.toUpperCase();
}
