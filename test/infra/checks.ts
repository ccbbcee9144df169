import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BicepFile, Node } from './bicep.js';
import {
  callArguments,
  callee,
  compact,
  descendants,
  identifiersIn,
  literal,
  properties,
  property,
} from './bicep.js';

/**
 * Rules every template must keep. Each returns a list of problems, each naming file and line, so a
 * test can show that a rule fails on a broken copy as well as passes on the real templates.
 */

export function syntaxProblems(files: readonly BicepFile[]): string[] {
  return files.flatMap((file) =>
    file.problems.map(
      (problem) => `${file.file}:${problem.line}:${problem.column}: syntax ${problem.kind}: ${problem.text}`,
    ),
  );
}

const DESCRIPTION = /^(Required|Optional|Conditional)\. /;

/**
 * Every parameter says whether it must be given. A parameter without a default must be "Required.";
 * one with a default (or a nullable type) must not be.
 */
export function parameterProblems(files: readonly BicepFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const param of file.params) {
      const where = `${file.file}:${param.line}: param ${param.name}`;
      const kind = DESCRIPTION.exec(param.description ?? '')?.[1];
      if (!kind) {
        problems.push(`${where}: @description must start with "Required.", "Optional." or "Conditional."`);
        continue;
      }
      const optional = param.defaultValue !== undefined || param.typeText.endsWith('?');
      if (optional && kind === 'Required')
        problems.push(`${where}: has a default but is described as Required.`);
      if (!optional && kind !== 'Required')
        problems.push(`${where}: has no default but is described as ${kind}.`);
      if (param.typeText === 'string' && /(secret|password|token|key)$/i.test(param.name) && !param.secure) {
        problems.push(`${where}: looks like a secret and must be @secure()`);
      }
    }
  }
  return problems;
}

/** Calls that return keys or secrets: listKeys, listSecrets, listConnectionStrings, list*(). */
function secretCalls(node: Node): string[] {
  return descendants(node, 'call_expression')
    .map((call) => callee(call) ?? '')
    .filter((name) => /(^|\.)list[A-Z]\w*$/.test(name) || /^list$/i.test(name));
}

/** Key material: list*() calls, and connection strings or properties that carry a key. */
function secretReads(node: Node): string[] {
  const found = secretCalls(node);
  if (/AccountKey=|SharedAccessKey=|InstrumentationKey=|primaryKey|secondaryKey/i.test(node.text)) {
    found.push('a key');
  }
  return found;
}

/** No output carries a key, a connection string or a @secure() parameter; main.bicep outputs are UPPER_SNAKE. */
export function outputProblems(files: readonly BicepFile[], mainFile = 'infra/main.bicep'): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const secure = new Set(file.params.filter((param) => param.secure).map((param) => param.name));
    for (const output of file.outputs) {
      const where = `${file.file}:${output.line}: output ${output.name}`;
      for (const read of secretReads(output.value)) problems.push(`${where}: reads ${read}`);
      // Even Application Insights' (not a secret with local auth off): outputs land in .azure/<env>/.env.
      if (/connectionString/i.test(output.value.text)) problems.push(`${where}: reads a connection string`);
      for (const name of identifiersIn(output.value)) {
        if (secure.has(name)) problems.push(`${where}: exposes the @secure() parameter ${name}`);
      }
      if (file.file === mainFile && !/^[A-Z][A-Z0-9_]*$/.test(output.name)) {
        problems.push(`${where}: azd outputs are UPPER_SNAKE`);
      }
    }
  }
  return problems;
}

/** No template anywhere reads storage keys or builds a connection string with a key. */
export function keyProblems(files: readonly BicepFile[]): string[] {
  return files.flatMap((file) => secretReads(file.root).map((read) => `${file.file}: reads ${read}`));
}

/**
 * Every role assignment names its principal type, and is named guid(scope, principal, role) with the
 * same principal and role it assigns, so a redeployment finds it again instead of failing on a duplicate.
 */
export function roleAssignmentProblems(files: readonly BicepFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const resource of file.resources) {
      if (!resource.type.startsWith('Microsoft.Authorization/roleAssignments@') || resource.existing)
        continue;
      const where = `${file.file}:${resource.line}: role assignment ${resource.symbol}`;
      const principalType = property(resource.body, 'properties.principalType');
      const principalId = property(resource.body, 'properties.principalId');
      const roleDefinitionId = property(resource.body, 'properties.roleDefinitionId');
      if (!principalType) problems.push(`${where}: has no properties.principalType`);
      if (!principalId) problems.push(`${where}: has no properties.principalId`);
      if (!roleDefinitionId) problems.push(`${where}: has no properties.roleDefinitionId`);
      const name = property(resource.body, 'name');
      const args = callArguments(name);
      if (callee(name) !== 'guid' || args.length !== 3) {
        problems.push(`${where}: name must be guid(scope, principal, role)`);
        continue;
      }
      const [scopeArg, principalArg, roleArg] = args;
      if (compact(principalArg) !== compact(principalId)) {
        problems.push(
          `${where}: name uses principal ${compact(principalArg)} but assigns ${compact(principalId)}`,
        );
      }
      if (!compact(roleDefinitionId).includes(compact(roleArg))) {
        problems.push(
          `${where}: name uses role ${compact(roleArg)} but assigns ${compact(roleDefinitionId)}`,
        );
      }
      const scope = property(resource.body, 'scope');
      if (scope && compact(scopeArg) !== `${compact(scope)}.id`) {
        problems.push(`${where}: name uses ${compact(scopeArg)} but the scope is ${compact(scope)}`);
      }
    }
  }
  return problems;
}

/** Module and import paths exist (registry references excepted). */
export function pathProblems(files: readonly BicepFile[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const references = [
      ...file.modules.map((module) => ({ path: module.path, line: module.line, what: 'module' })),
      ...file.imports.map((entry) => ({ path: entry.path, line: entry.line, what: 'import' })),
    ];
    for (const reference of references) {
      if (/^(br:|br\/|ts:|ts\/)/.test(reference.path)) continue;
      const target = path.resolve(path.dirname(file.absolutePath), reference.path);
      if (!reference.path || !existsSync(target)) {
        problems.push(
          `${file.file}:${reference.line}: ${reference.what} path '${reference.path}' does not exist`,
        );
      }
    }
  }
  return problems;
}

/** A resource type with an API version; a child declared inside its parent may use the short form. */
export function resourceTypeProblems(files: readonly BicepFile[]): string[] {
  const full = /^[A-Za-z]+\.[A-Za-z.]+\/[A-Za-z]+(\/[A-Za-z]+)*@(\d{4}-\d{2}-\d{2}(-preview)?|v1\.0|beta)$/;
  return files.flatMap((file) =>
    file.resources
      .filter((resource) => !full.test(resource.type) && !/^[A-Za-z]+$/.test(resource.type))
      .map(
        (resource) =>
          `${file.file}:${resource.line}: resource ${resource.symbol} has type '${resource.type}'`,
      ),
  );
}

/** Microsoft Graph resources need the Graph extension, declared in that file, whose alias bicepconfig.json maps. */
export function extensionProblems(
  files: readonly BicepFile[],
  configuredAliases: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const file of files) {
    for (const extension of file.extensions) {
      if (!extension.name.startsWith('br:') && !configuredAliases.has(extension.name)) {
        problems.push(
          `${file.file}:${extension.line}: extension ${extension.name} is not in infra/bicepconfig.json`,
        );
      }
    }
    const graph = file.resources.filter((resource) => resource.type.startsWith('Microsoft.Graph/'));
    if (graph.length > 0 && file.extensions.length === 0) {
      problems.push(`${file.file}: declares Microsoft.Graph resources without an extension statement`);
    }
  }
  return problems;
}

/**
 * The keys of an app-settings expression: object literals, variables that hold them, and union(...)
 * of those. Keys built at deployment time (toObject over a parameter) are reported as dynamic.
 */
export function settingKeys(
  expression: Node | undefined,
  file: BicepFile,
): { keys: Map<string, Node>; dynamic: boolean } {
  const keys = new Map<string, Node>();
  let dynamic = false;
  const visit = (node: Node | undefined, depth: number): void => {
    if (!node || depth > 10) return;
    if (node.type === 'object') {
      for (const [key, value] of properties(node)) keys.set(key, value);
    } else if (node.type === 'identifier' && file.variables.has(node.text)) {
      visit(file.variables.get(node.text), depth + 1);
    } else if (callee(node) === 'union') {
      for (const arg of callArguments(node)) visit(arg, depth + 1);
    } else {
      dynamic = true;
    }
  };
  visit(expression, 0);
  return { keys, dynamic };
}

/** Every app setting any Microsoft.Web/sites resource or appsettings config in these files sets. */
export function appSettings(files: readonly BicepFile[]): { file: BicepFile; key: string; value: Node }[] {
  const found: { file: BicepFile; key: string; value: Node }[] = [];
  for (const file of files) {
    for (const resource of file.resources) {
      if (
        resource.type.startsWith('Microsoft.Web/sites/config@') &&
        literal(property(resource.body, 'name')) === 'appsettings'
      ) {
        for (const [key, value] of settingKeys(property(resource.body, 'properties'), file).keys) {
          found.push({ file, key, value });
        }
      }
      if (resource.type.startsWith('Microsoft.Web/sites@')) {
        const list = property(resource.body, 'properties.siteConfig.appSettings');
        for (const entry of list ? descendants(list, 'object') : []) {
          const key = literal(property(entry, 'name'));
          const value = property(entry, 'value');
          if (typeof key === 'string' && value) found.push({ file, key, value });
        }
      }
    }
  }
  return found;
}
