import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import type { BicepFile } from './bicep.js';
import { INFRA, ROOT, bicepFiles, literal, loadBicep } from './bicep.js';

/** The azd shape: azure.yaml, main.parameters.json, abbreviations.json, and how they meet main.bicep. */

const files: BicepFile[] = bicepFiles().map((file) => loadBicep(file));
const main = files.find((file) => file.file === 'infra/main.bicep');

const hook = z.object({ shell: z.string(), run: z.string() });
const azureYaml = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    infra: z.object({ provider: z.literal('bicep'), path: z.string(), module: z.string() }),
    services: z.record(
      z.string(),
      z.object({
        project: z.string(),
        language: z.enum(['ts', 'js']),
        host: z.literal('function'),
        dist: z.string(),
        remoteBuild: z.boolean(),
        hooks: z.object({ prepackage: z.object({ posix: hook, windows: hook }) }),
      }),
    ),
  })
  .parse(parse(readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8')));

const parameterFile = z
  .object({ parameters: z.record(z.string(), z.object({ value: z.unknown() })) })
  .parse(JSON.parse(readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')));

const packageJson = z
  .object({ main: z.string() })
  .parse(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')));

describe('azure.yaml', () => {
  const api = azureYaml.services.api;

  it('names the api service, a Function app built from the repository root', () => {
    expect(Object.keys(azureYaml.services)).toEqual(['api']);
    expect(api?.project).toBe('.');
  });

  it('points at infra/main.bicep', () => {
    expect(existsSync(path.join(ROOT, azureYaml.infra.path, `${azureYaml.infra.module}.bicep`))).toBe(true);
    expect(main?.file).toBe(`${azureYaml.infra.path}/${azureYaml.infra.module}.bicep`);
  });

  it('builds the app, then stages it with production dependencies where dist points', () => {
    for (const variant of [api?.hooks.prepackage.posix, api?.hooks.prepackage.windows]) {
      const run = variant?.run ?? '';
      expect(run).toMatch(/npm ci --no-audit --no-fund\r?\n[\s\S]*npm run build/);
      expect(run).toContain('npm ci --omit=dev --ignore-scripts');
      expect(run).toContain(api?.dist);
      // package.json's main (dist/functions/index.js) is in what the hook copies.
      const mainDir = path.posix.dirname(packageJson.main);
      expect(run, variant?.shell).toContain(mainDir);
      expect(run).toContain('host.json');
    }
  });

  it('deploys the local build: .funcignore keeps node_modules (azd requires remoteBuild to agree)', () => {
    expect(api?.remoteBuild).toBe(false);
    const funcignore = readFileSync(path.join(ROOT, '.funcignore'), 'utf8');
    expect(funcignore.split('\n').map((line) => line.trim())).not.toContain('node_modules/');
  });
});

describe('main.parameters.json', () => {
  const params = new Map(main?.params.map((param) => [param.name, param]));
  const outputs = new Set(main?.outputs.map((output) => output.name));

  it('covers every parameter of main.bicep without a default, and names only real parameters', () => {
    const required = main?.params
      .filter((param) => param.defaultValue === undefined)
      .map((param) => param.name);
    expect(required?.length).toBeGreaterThan(0);
    for (const name of required ?? []) expect(Object.keys(parameterFile.parameters), name).toContain(name);
    for (const name of Object.keys(parameterFile.parameters)) expect(params.has(name), name).toBe(true);
  });

  it('maps the azd environment', () => {
    expect(parameterFile.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(parameterFile.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(parameterFile.parameters.principalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
  });

  it('reads only variables that azd sets, that main.bicep outputs, or that an operator sets (ENTRASYNC_*)', () => {
    const azd = new Set([
      'AZURE_ENV_NAME',
      'AZURE_LOCATION',
      'AZURE_PRINCIPAL_ID',
      'AZURE_PRINCIPAL_TYPE',
      'AZURE_SUBSCRIPTION_ID',
    ]);
    const text = JSON.stringify(parameterFile);
    for (const [, name] of text.matchAll(/\$\{(\w+)(?:=[^}]*)?\}/g)) {
      expect(azd.has(name ?? '') || outputs.has(name ?? '') || name?.startsWith('ENTRASYNC_'), name).toBe(
        true,
      );
    }
  });

  it("defaults each ${VAR=default} to the parameter's own default", () => {
    for (const [name, { value }] of Object.entries(parameterFile.parameters)) {
      const fallback = typeof value === 'string' ? /^\$\{\w+=([^}]*)\}$/.exec(value)?.[1] : undefined;
      const declared = literal(params.get(name)?.defaultValue);
      if (fallback !== undefined && declared !== undefined) expect(fallback, name).toBe(String(declared));
    }
  });

  it('creates the consent-state key on the first provision only', () => {
    // main.bicep outputs the flag; azd keeps it in .azure/<env>/.env and feeds it back.
    expect(parameterFile.parameters.consentStateKeyExists?.value).toBe(
      '${ENTRASYNC_CONSENT_STATE_KEY_EXISTS=false}',
    );
    const output = main?.outputs.find((candidate) => candidate.name === 'ENTRASYNC_CONSENT_STATE_KEY_EXISTS');
    expect(output?.value.text).toBe('true');
  });
});

describe('outputs and names', () => {
  it('outputs what azd and docs/deploy.md use', () => {
    const outputs = main?.outputs.map((output) => output.name);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'AZURE_FUNCTION_APP_NAME',
        'AZURE_KEY_VAULT_NAME',
        'AZURE_KEY_VAULT_URL',
        'AZURE_STORAGE_ACCOUNT_NAME',
        'AZURE_RESOURCE_GROUP',
        'ENTRASYNC_APP_CLIENT_ID',
        'ADMIN_API_AUDIENCE',
        'ADMIN_TENANT_ID',
        'CONSENT_REDIRECT_URI',
      ]),
    );
  });

  it('uses only abbreviations that abbreviations.json defines', () => {
    const abbreviations = JSON.parse(readFileSync(path.join(INFRA, 'abbreviations.json'), 'utf8')) as Record<
      string,
      string
    >;
    const used = [...(main?.root.text ?? '').matchAll(/\babbrs\.(\w+)/g)].map((match) => match[1] ?? '');
    expect(used.length).toBeGreaterThan(5);
    for (const name of used) expect(abbreviations[name], name).toMatch(/^[a-z]+-?$/);
  });
});
