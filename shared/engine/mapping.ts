/**
 * Attribute mapping: each app user attribute comes from an expression over the source properties or
 * from a constant. The connection's entries are laid over the default mapping, so a connection that
 * only adds `department` keeps the defaults.
 */
import { evaluateExpression, parseExpression, type Expression } from './expressions.js';
import type { MappedAttributes, MappedValue, SourceProperties } from './types.js';

export type ConstantValue = string | number | boolean | null;

export type AttributeSource =
  | { readonly kind: 'expression'; readonly text: string; readonly expression: Expression }
  | { readonly kind: 'constant'; readonly value: ConstantValue };

/** Target attribute name to its source, in the order the attributes are written. */
export type AttributeMapping = Readonly<Record<string, AttributeSource>>;

/** Attributes the engine itself relies on: identity (userName) and e-mail matching (mail). */
export const REQUIRED_TARGET_ATTRIBUTES = ['userName', 'mail'] as const;

export const DEFAULT_ATTRIBUTE_EXPRESSIONS: Readonly<Record<string, string>> = {
  userName: '[userPrincipalName]',
  mail: 'Coalesce([mail], [userPrincipalName])',
  givenName: '[givenName]',
  sn: '[surname]',
  displayName: '[displayName]',
  accountEnabled: '[accountEnabled]',
};

export const DEFAULT_ATTRIBUTE_MAPPING: AttributeMapping = Object.fromEntries(
  Object.entries(DEFAULT_ATTRIBUTE_EXPRESSIONS).map(([target, text]) => [target, compileExpression(text)]),
);

/** Parses an expression known to be valid; for built-in defaults, where a failure is a bug. */
export function compileExpression(text: string): AttributeSource {
  const parsed = parseExpression(text);
  if (!parsed.ok)
    throw new Error(`Built-in expression ${text} is invalid at ${parsed.position}: ${parsed.message}`);
  return { kind: 'expression', text, expression: parsed.expression };
}

export function mapAttributes(mapping: AttributeMapping, properties: SourceProperties): MappedAttributes {
  const attributes: Record<string, MappedValue> = {};
  for (const [target, source] of Object.entries(mapping)) {
    attributes[target] =
      source.kind === 'constant' ? source.value : evaluateExpression(source.expression, properties);
  }
  return attributes;
}
