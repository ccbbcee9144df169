import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'tree-sitter';
import Bicep from 'tree-sitter-bicep';

/**
 * A small reader of Bicep files over the tree-sitter-bicep parse tree. There is no Bicep CLI here, so
 * this checks syntax and structure (resources, parameters, properties, outputs), not types.
 */

export type Node = Parser.SyntaxNode;

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INFRA = path.join(ROOT, 'infra');

const parser = new Parser();
// The package's typings declare its inner language object as unknown; it is the one Parser expects.
parser.setLanguage(Bicep as unknown as Parser.Language);

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly kind: 'error' | 'missing';
  readonly text: string;
}

export interface Param {
  readonly name: string;
  readonly node: Node;
  readonly line: number;
  readonly typeText: string;
  readonly defaultValue: Node | undefined;
  readonly decorators: ReadonlyMap<string, readonly Node[]>;
  readonly description: string | undefined;
  readonly secure: boolean;
}

export interface Output {
  readonly name: string;
  readonly line: number;
  readonly value: Node;
}

export interface Resource {
  readonly symbol: string;
  readonly type: string;
  readonly line: number;
  readonly existing: boolean;
  readonly conditional: boolean;
  readonly loop: boolean;
  /** The resource body (for a loop or a condition, the object inside it). */
  readonly body: Node | undefined;
}

export interface Module {
  readonly symbol: string;
  readonly path: string;
  readonly line: number;
  readonly conditional: boolean;
  readonly body: Node | undefined;
}

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes: what messages name. */
  readonly file: string;
  readonly absolutePath: string;
  readonly root: Node;
  readonly problems: readonly SyntaxProblem[];
  readonly targetScope: string | undefined;
  /** `extension` statements (their alias or registry reference), blanked before parsing (see below). */
  readonly extensions: readonly { readonly name: string; readonly line: number }[];
  /** Paths of compile-time imports (`import { x } from 'path'`). */
  readonly imports: readonly { readonly path: string; readonly line: number }[];
  readonly params: readonly Param[];
  readonly variables: ReadonlyMap<string, Node>;
  readonly resources: readonly Resource[];
  readonly modules: readonly Module[];
  readonly outputs: readonly Output[];
}

/**
 * tree-sitter-bicep 1.1.0 predates the `extension` keyword (Bicep 0.30), which the Microsoft Graph
 * extension needs. A well-formed `extension name` or `extension 'ref'` line is replaced by spaces of the
 * same length (so lines and columns hold) and recorded; anything else on such a line is left to the
 * parser, which reports it.
 */
const EXTENSION_STATEMENT =
  /^([ \t]*)extension[ \t]+([A-Za-z_][A-Za-z0-9_]*|'[^'\n]*')[ \t]*(?:\/\/[^\n]*)?$/gm;

export function bicepFiles(dir: string = INFRA): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.bicep'))
    .map((name) => path.join(dir, name))
    .sort();
}

export function loadBicep(absolutePath: string, root: string = ROOT): BicepFile {
  return parseBicep(readFileSync(absolutePath, 'utf8'), absolutePath, root);
}

export function parseBicep(source: string, absolutePath: string, root: string = ROOT): BicepFile {
  const extensions: { name: string; line: number }[] = [];
  const blanked = source.replace(
    EXTENSION_STATEMENT,
    (statement: string, _indent: string, name: string, offset: number) => {
      extensions.push({ name: name.replace(/^'|'$/g, ''), line: lineAt(source, offset) });
      return ' '.repeat(statement.length);
    },
  );
  const tree = parser.parse(blanked);
  const top = tree.rootNode.namedChildren.filter((node) => node.type !== 'comment');

  const params: Param[] = [];
  const outputs: Output[] = [];
  const modules: Module[] = [];
  const imports: { path: string; line: number }[] = [];
  const variables = new Map<string, Node>();
  let targetScope: string | undefined;
  let pending = new Map<string, Node[]>();

  for (const node of top) {
    if (node.type === 'decorators') {
      pending = decoratorsOf(node);
      continue;
    }
    const decorators = pending;
    pending = new Map();
    const parts = named(node);
    const name = parts[0]?.text ?? '';
    switch (node.type) {
      case 'target_scope_assignment': {
        const value = literal(parts[0]);
        targetScope = typeof value === 'string' ? value : undefined;
        break;
      }
      case 'import_functionality': {
        const from = literal(parts.at(-1));
        if (typeof from === 'string') imports.push({ path: from, line: lineOf(node) });
        break;
      }
      case 'parameter_declaration': {
        const description = literal(decorators.get('description')?.[0]);
        params.push({
          name,
          node,
          line: lineOf(node),
          typeText: parts[1]?.text ?? '',
          defaultValue: node.children.some((child) => child.type === '=') ? parts[2] : undefined,
          decorators,
          description: typeof description === 'string' ? description : undefined,
          secure: decorators.has('secure'),
        });
        break;
      }
      case 'variable_declaration': {
        const value = parts[1];
        if (value) variables.set(name, value);
        break;
      }
      case 'output_declaration': {
        const value = parts.at(-1);
        if (value) outputs.push({ name, line: lineOf(node), value });
        break;
      }
      case 'module_declaration': {
        const modulePath = literal(parts[1]);
        modules.push({
          symbol: name,
          path: typeof modulePath === 'string' ? modulePath : '',
          line: lineOf(node),
          conditional: parts[2]?.type === 'if_statement',
          body: bodyOf(parts[2]),
        });
        break;
      }
      default:
        break;
    }
  }

  const resources = descendants(tree.rootNode, 'resource_declaration').map((node): Resource => {
    const parts = named(node);
    const type = literal(parts[1]);
    const value = parts[2];
    return {
      symbol: parts[0]?.text ?? '',
      type: typeof type === 'string' ? type : '',
      line: lineOf(node),
      existing: node.children.some((child) => child.type === 'existing'),
      conditional: value?.type === 'if_statement',
      loop: value?.type === 'for_statement',
      body: bodyOf(value),
    };
  });

  return {
    file: path.relative(root, absolutePath).split(path.sep).join('/'),
    absolutePath,
    root: tree.rootNode,
    problems: syntaxProblems(tree.rootNode),
    targetScope,
    extensions,
    imports,
    params,
    variables,
    resources,
    modules,
    outputs,
  };
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function lineOf(node: Node): number {
  return node.startPosition.row + 1;
}

/** Named children without comments, which tree-sitter may put anywhere. */
export function named(node: Node): Node[] {
  return node.namedChildren.filter((child) => child.type !== 'comment');
}

export function descendants(node: Node, type: string): Node[] {
  const found: Node[] = [];
  const visit = (current: Node): void => {
    if (current.type === type) found.push(current);
    for (const child of current.namedChildren) visit(child);
  };
  visit(node);
  return found;
}

function syntaxProblems(root: Node): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node): void => {
    if (node.isMissing || node.type === 'ERROR') {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: node.isMissing ? 'missing' : 'error',
        text: node.isMissing ? `missing ${node.type}` : (node.text.split('\n')[0]?.slice(0, 60) ?? ''),
      });
      if (node.type === 'ERROR') return;
    }
    for (const child of node.children) visit(child);
  };
  visit(root);
  return problems;
}

function decoratorsOf(node: Node): Map<string, Node[]> {
  const decorators = new Map<string, Node[]>();
  for (const decorator of named(node)) {
    const call = named(decorator)[0];
    if (call?.type !== 'call_expression') continue;
    const callee = call.childForFieldName('function')?.text;
    const args = call.childForFieldName('arguments');
    if (callee) decorators.set(callee, args ? named(args) : []);
  }
  return decorators;
}

/** The object a resource or module declares: directly, inside `if (...) { }`, or inside `[for ...: { }]`. */
function bodyOf(node: Node | undefined): Node | undefined {
  if (!node) return undefined;
  if (node.type === 'object') return node;
  if (node.type === 'if_statement') return bodyOf(named(node).at(-1));
  if (node.type === 'for_statement') return bodyOf(node.childForFieldName('body') ?? named(node).at(-1));
  return undefined;
}

/** Key to value of an object literal; keys written as identifiers or as quoted strings. */
export function properties(object: Node | undefined): Map<string, Node> {
  const result = new Map<string, Node>();
  if (object?.type !== 'object') return result;
  for (const property of named(object)) {
    if (property.type !== 'object_property') continue;
    const parts = named(property);
    const key = parts[0];
    const value = parts.at(-1);
    if (!key || !value || parts.length < 2) continue;
    // An interpolated key ('${id}': {}) is kept as written, without its quotes.
    const name = key.type === 'string' ? (literal(key) ?? key.text.slice(1, -1)) : key.text;
    if (typeof name === 'string') result.set(name, value);
  }
  return result;
}

/** The value at a dotted path of nested object literals, e.g. `properties.functionAppConfig.runtime`. */
export function property(object: Node | undefined, dotted: string): Node | undefined {
  let current = object;
  for (const key of dotted.split('.')) {
    current = properties(current).get(key);
    if (!current) return undefined;
  }
  return current;
}

export type Literal = string | number | boolean | null;

/** The value of a literal (a string without interpolation, a number, a boolean, null); undefined otherwise. */
export function literal(node: Node | undefined): Literal | undefined {
  if (!node) return undefined;
  switch (node.type) {
    case 'string': {
      let value = '';
      for (const part of named(node)) {
        if (part.type === 'string_content') value += part.text;
        else if (part.type === 'escape_sequence') value += unescape(part.text);
        else return undefined;
      }
      return value;
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    default:
      return undefined;
  }
}

function unescape(sequence: string): string {
  const simple: Record<string, string> = {
    "\\'": "'",
    '\\\\': '\\',
    '\\n': '\n',
    '\\r': '\r',
    '\\t': '\t',
    '\\$': '$',
  };
  const known = simple[sequence];
  if (known !== undefined) return known;
  const unicode = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  return unicode?.[1] ? String.fromCodePoint(parseInt(unicode[1], 16)) : sequence;
}

/** The function name of a call expression (`listKeys(...)` gives listKeys), or undefined. */
export function callee(node: Node | undefined): string | undefined {
  return node?.type === 'call_expression' ? node.childForFieldName('function')?.text : undefined;
}

export function callArguments(node: Node | undefined): Node[] {
  const args = node?.type === 'call_expression' ? node.childForFieldName('arguments') : null;
  return args ? named(args) : [];
}

/** Every identifier an expression mentions (the leftmost name of member accesses included). */
export function identifiersIn(node: Node): Set<string> {
  return new Set(descendants(node, 'identifier').map((identifier) => identifier.text));
}

/** Whitespace-free text of an expression, for comparing two expressions as written. */
export function compact(node: Node | undefined): string {
  return node ? node.text.replace(/\s+/g, '') : '';
}
