import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BicepFile } from './bicep.js';
import { INFRA, bicepFiles, loadBicep, parseBicep } from './bicep.js';
import {
  extensionProblems,
  keyProblems,
  outputProblems,
  parameterProblems,
  pathProblems,
  resourceTypeProblems,
  roleAssignmentProblems,
  syntaxProblems,
} from './checks.js';

const files: BicepFile[] = bicepFiles().map((file) => loadBicep(file));
const bicepConfig = JSON.parse(readFileSync(path.join(INFRA, 'bicepconfig.json'), 'utf8')) as {
  extensions?: Record<string, string>;
};

/** A copy of infra/ in a temp dir with one file changed, to show that a rule catches the mistake. */
const scratch = mkdtempSync(path.join(tmpdir(), 'entrasync-infra-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function mutated(relative: string, change: (source: string) => string): BicepFile {
  const root = mkdtempSync(path.join(scratch, 'copy-'));
  cpSync(INFRA, path.join(root, 'infra'), { recursive: true });
  const target = path.join(root, 'infra', relative);
  const original = readFileSync(target, 'utf8');
  const changed = change(original);
  expect(changed, 'the mutation must change the file').not.toBe(original);
  writeFileSync(target, changed);
  return loadBicep(target, root);
}

describe('Bicep templates', () => {
  it('finds the templates', () => {
    expect(files.map((file) => file.file)).toEqual(
      expect.arrayContaining([
        'infra/main.bicep',
        'infra/app/function-app.bicep',
        'infra/app/storage.bicep',
        'infra/app/key-vault.bicep',
        'infra/app/role-assignments.bicep',
        'infra/app/app-settings.bicep',
        'infra/app/app-registration.bicep',
      ]),
    );
  });

  it.each(files.map((file) => [file.file, file] as const))(
    '%s parses without syntax errors',
    (_name, file) => {
      expect(syntaxProblems([file])).toEqual([]);
    },
  );

  it('reports a syntax error with file, line and column', () => {
    const broken = mutated('app/storage.bicep', (source) =>
      source.replace("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_2' +"),
    );
    const line = readFileSync(path.join(INFRA, 'app/storage.bicep'), 'utf8')
      .split('\n')
      .findIndex((text) => text.includes('minimumTlsVersion'));
    const problems = syntaxProblems([broken]);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(
      new RegExp(`^infra/app/storage\\.bicep:(${line + 1}|${line + 2}):\\d+: syntax`),
    );
  });

  it('reports a missing token', () => {
    const problems = syntaxProblems([
      parseBicep("param a string = 'x'\nvar b = (1 + 2\n", path.join(INFRA, 'x.bicep')),
    ]);
    expect(problems.join('\n')).toMatch(/^infra\/x\.bicep:\d+:\d+: syntax (missing|error)/);
  });

  it('tolerates a well-formed extension statement, but not junk after it', () => {
    const good = parseBicep('extension microsoftGraphV1\nparam a string\n', path.join(INFRA, 'x.bicep'));
    expect(good.problems).toEqual([]);
    expect(good.extensions).toEqual([{ name: 'microsoftGraphV1', line: 1 }]);
    const bad = parseBicep('extension microsoftGraphV1 = {\nparam a string\n', path.join(INFRA, 'x.bicep'));
    expect(bad.problems.length).toBeGreaterThan(0);
  });

  it('describes every parameter with Required., Optional. or Conditional., and secrets are @secure()', () => {
    expect(parameterProblems(files)).toEqual([]);
    const undescribed = mutated('app/key-vault.bicep', (source) =>
      source.replace("@description('Required. Name of the vault (3-24 characters).')\n", ''),
    );
    expect(parameterProblems([undescribed])).toEqual([
      expect.stringMatching(/key-vault\.bicep:\d+: param name: @description must start with/),
    ]);
    const insecure = mutated(
      'app/key-vault.bicep',
      (source) => `${source}\n@description('Optional. A client secret.')\nparam clientSecret string = ''\n`,
    );
    expect(parameterProblems([insecure])).toEqual([
      expect.stringMatching(/clientSecret: looks like a secret/),
    ]);
  });

  it('never outputs a key, a connection string or a @secure() parameter', () => {
    expect(outputProblems(files)).toEqual([]);
    expect(keyProblems(files)).toEqual([]);
    const leaky = mutated(
      'app/key-vault.bicep',
      (source) => `${source}output leaked string = consentStateKeySeed\n`,
    );
    expect(outputProblems([leaky])).toEqual([
      expect.stringMatching(/exposes the @secure\(\) parameter consentStateKeySeed/),
    ]);
    const keys = mutated(
      'app/storage.bicep',
      (source) => `${source}output key string = storage.listKeys().keys[0].value\n`,
    );
    expect(outputProblems([keys])).toEqual([expect.stringMatching(/output key: reads storage\.listKeys/)]);
    expect(keyProblems([keys])).not.toEqual([]);
  });

  it('gives every role assignment a principalType and a guid(scope, principal, role) name', () => {
    expect(roleAssignmentProblems(files)).toEqual([]);
    const noType = mutated('app/role-assignments.bicep', (source) =>
      source.replace(
        "    principalType: 'ServicePrincipal'\n    description: 'EntraSync: the import queue",
        "    description: 'EntraSync: the import queue",
      ),
    );
    expect(roleAssignmentProblems([noType])).toEqual([
      expect.stringMatching(
        /role-assignments\.bicep:\d+: role assignment queueDataContributor: has no properties\.principalType/,
      ),
    ]);
    const wrongName = mutated('app/role-assignments.bicep', (source) =>
      source.replace(
        'name: guid(storage.id, identityPrincipalId, roles.storageTableDataContributor)',
        'name: guid(storage.id, identityPrincipalId, roles.storageQueueDataContributor)',
      ),
    );
    expect(roleAssignmentProblems([wrongName])).toEqual([
      expect.stringMatching(/tableDataContributor: name uses role/),
    ]);
  });

  it('refers only to module and import paths that exist', () => {
    expect(pathProblems(files)).toEqual([]);
    const moved = mutated('main.bicep', (source) =>
      source.replace("'app/storage.bicep'", "'app/storage-account.bicep'"),
    );
    expect(pathProblems([moved])).toEqual([
      expect.stringMatching(/main\.bicep:\d+: module path 'app\/storage-account\.bicep' does not exist/),
    ]);
  });

  it('writes resource types with an API version', () => {
    expect(resourceTypeProblems(files)).toEqual([]);
  });

  it('declares the Graph extension where Graph resources are, with its alias in bicepconfig.json', () => {
    const aliases = new Set(Object.keys(bicepConfig.extensions ?? {}));
    expect(extensionProblems(files, aliases)).toEqual([]);
    for (const reference of Object.values(bicepConfig.extensions ?? {})) {
      expect(reference).toMatch(
        /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/,
      );
    }
    expect(extensionProblems(files, new Set())).toEqual([
      expect.stringMatching(
        /app-registration\.bicep:\d+: extension microsoftGraphV1 is not in infra\/bicepconfig\.json/,
      ),
    ]);
  });
});
