import { describe, expect, it } from 'vitest';
import type { BicepFile, Literal, Node, Resource } from './bicep.js';
import {
  bicepFiles,
  callArguments,
  callee,
  compact,
  literal,
  loadBicep,
  properties,
  property,
} from './bicep.js';

/** What the issue asks of each resource, checked on the parse tree. */

const files: BicepFile[] = bicepFiles().map((file) => loadBicep(file));

function byFile(name: string): BicepFile {
  const file = files.find((candidate) => candidate.file === name);
  if (!file) throw new Error(`${name} not found`);
  return file;
}

/** The one resource of a type (declared, not `existing`). */
function only(type: string): { file: BicepFile; resource: Resource } {
  const found = files.flatMap((file) =>
    file.resources
      .filter((resource) => resource.type.split('@')[0] === type && !resource.existing)
      .map((resource) => ({ file, resource })),
  );
  expect(found, `one ${type}`).toHaveLength(1);
  const [first] = found;
  if (!first) throw new Error(`no ${type}`);
  return first;
}

function valueAt(resource: Resource, dotted: string): Literal | undefined {
  return literal(property(resource.body, dotted));
}

function textAt(resource: Resource, dotted: string): string {
  return compact(property(resource.body, dotted));
}

function paramDefault(file: BicepFile, name: string): Literal | undefined {
  return literal(file.params.find((param) => param.name === name)?.defaultValue);
}

function moduleParam(file: BicepFile, path: string, name: string): Node | undefined {
  return property(file.modules.find((module) => module.path === path)?.body, `params.${name}`);
}

describe('main.bicep', () => {
  const main = byFile('infra/main.bicep');

  it('targets the subscription and creates the resource group with the azd-env-name tag', () => {
    expect(main.targetScope).toBe('subscription');
    const { resource } = only('Microsoft.Resources/resourceGroups');
    expect(textAt(resource, 'tags')).toBe('tags');
    expect(properties(main.variables.get('tags')).has('azd-env-name')).toBe(true);
    expect(compact(properties(main.variables.get('tags')).get('azd-env-name'))).toBe('environmentName');
  });

  it('names resources from the resource token', () => {
    expect(compact(main.variables.get('resourceToken'))).toBe(
      'toLower(uniqueString(subscription().id,environmentName,location))',
    );
    // Modules that create resources take a location; their name parameters come from the token.
    const creators = main.modules.filter((module) =>
      properties(property(module.body, 'params')).has('location'),
    );
    expect(creators.length).toBeGreaterThanOrEqual(5);
    for (const module of creators) {
      for (const [key, value] of properties(property(module.body, 'params'))) {
        if (/^(name|planName|logAnalyticsName|applicationInsightsName)$/.test(key)) {
          expect(compact(value), `${module.symbol}.${key}`).toMatch(/\$\{abbrs\.\w+\}\$\{resourceToken\}/);
        }
      }
    }
  });

  it('puts every module in the resource group', () => {
    for (const module of main.modules)
      expect(compact(property(module.body, 'scope')), module.symbol).toBe('rg');
  });
});

describe('storage', () => {
  it('allows no shared keys, no public blobs, HTTPS and TLS 1.2 only', () => {
    const { resource } = only('Microsoft.Storage/storageAccounts');
    expect(valueAt(resource, 'properties.allowSharedKeyAccess')).toBe(false);
    expect(valueAt(resource, 'properties.minimumTlsVersion')).toBe('TLS1_2');
    expect(valueAt(resource, 'properties.allowBlobPublicAccess')).toBe(false);
    expect(valueAt(resource, 'properties.supportsHttpsTrafficOnly')).toBe(true);
    expect(valueAt(resource, 'properties.defaultToOAuthAuthentication')).toBe(true);
  });

  it('creates the import queue and its poison queue', () => {
    const { resource } = only('Microsoft.Storage/storageAccounts/queueServices/queues');
    expect(resource.loop).toBe(true);
    const queueNames = moduleParam(byFile('infra/main.bicep'), 'app/storage.bicep', 'queueNames');
    expect(compact(queueNames)).toBe("[importQueueName'${importQueueName}-poison']");
    expect(paramDefault(byFile('infra/main.bicep'), 'importQueueName')).toBe('entrasync-import');
  });

  it('holds the deployment container', () => {
    const { resource } = only('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(valueAt(resource, 'properties.publicAccess')).toBe('None');
  });
});

describe('Key Vault', () => {
  it('is in RBAC mode with soft delete and purge protection', () => {
    const { resource } = only('Microsoft.KeyVault/vaults');
    expect(valueAt(resource, 'properties.enableRbacAuthorization')).toBe(true);
    expect(valueAt(resource, 'properties.enableSoftDelete')).toBe(true);
    expect(valueAt(resource, 'properties.enablePurgeProtection')).toBe(true);
    expect(property(resource.body, 'properties.accessPolicies')).toBeUndefined();
  });

  it('creates the consent-state key once, from a random @secure() seed, under CONSENT_STATE_SECRET_NAME', () => {
    const { file, resource } = only('Microsoft.KeyVault/vaults/secrets');
    const value = property(resource.body, 'properties.value');
    const seeds = file.params.filter((param) => param.secure && value?.text.includes(param.name));
    expect(seeds.map((param) => compact(param.defaultValue))).toEqual([
      "'${newGuid()}${newGuid()}${newGuid()}'",
    ]);
    expect(valueAt(resource, 'properties.contentType')).toBe('application/octet-stream; encoding=base64url');
    expect(textAt(resource, 'name')).toBe('consentStateSecretName');
    expect(resource.conditional).toBe(true);
    const main = byFile('infra/main.bicep');
    expect(compact(moduleParam(main, 'app/key-vault.bicep', 'createConsentStateKey'))).toBe(
      '!consentStateKeyExists',
    );
  });
});

describe('monitoring', () => {
  it('disables local auth on Application Insights and sends to Log Analytics', () => {
    const { resource } = only('Microsoft.Insights/components');
    expect(valueAt(resource, 'properties.DisableLocalAuth')).toBe(true);
    expect(textAt(resource, 'properties.WorkspaceResourceId')).toBe('workspace.id');
    only('Microsoft.OperationalInsights/workspaces');
  });
});

describe('Function app', () => {
  it('runs on the Flex Consumption plan (FC1)', () => {
    const { resource } = only('Microsoft.Web/serverfarms');
    expect(valueAt(resource, 'sku.name')).toBe('FC1');
    expect(valueAt(resource, 'sku.tier')).toBe('FlexConsumption');
    expect(valueAt(resource, 'properties.reserved')).toBe(true);
  });

  const { file, resource: site } = only('Microsoft.Web/sites');

  it('runs Node 22 with scale limits', () => {
    expect(valueAt(site, 'kind')).toBe('functionapp,linux');
    expect(valueAt(site, 'properties.functionAppConfig.runtime.name')).toBe('node');
    expect(valueAt(site, 'properties.functionAppConfig.runtime.version')).toBe('22');
    expect(
      property(site.body, 'properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount'),
    ).toBeDefined();
    expect(
      property(site.body, 'properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB'),
    ).toBeDefined();
    expect(valueAt(site, 'properties.httpsOnly')).toBe(true);
  });

  it('runs as the user-assigned identity, also for deployment storage and Key Vault references', () => {
    expect(valueAt(site, 'identity.type')).toBe('UserAssigned');
    const identities = [...properties(property(site.body, 'identity.userAssignedIdentities')).keys()];
    expect(identities).toEqual(['${identityResourceId}']);
    const deployment = 'properties.functionAppConfig.deployment.storage';
    expect(valueAt(site, `${deployment}.type`)).toBe('blobContainer');
    expect(valueAt(site, `${deployment}.authentication.type`)).toBe('UserAssignedIdentity');
    expect(textAt(site, `${deployment}.authentication.userAssignedIdentityResourceId`)).toBe(
      'identityResourceId',
    );
    // The site property is keyVaultReferenceIdentity (Microsoft.Web/sites); there is no
    // keyVaultAccessIdentityResourceId on a site.
    expect(textAt(site, 'properties.keyVaultReferenceIdentity')).toBe('identityResourceId');
    expect(file.params.find((param) => param.name === 'identityResourceId')).toBeDefined();
  });

  it('carries the azd-service-name tag of the azure.yaml service', () => {
    const tags = property(site.body, 'tags');
    const added = callArguments(tags).at(-1);
    expect(callee(tags)).toBe('union');
    expect(compact(properties(added).get('azd-service-name'))).toBe('serviceName');
    expect(literal(moduleParam(byFile('infra/main.bicep'), 'app/function-app.bicep', 'serviceName'))).toBe(
      'api',
    );
  });
});

describe('role assignments', () => {
  const roles = properties(byFile('infra/app/role-assignments.bicep').variables.get('roles'));
  const assignments = byFile('infra/app/role-assignments.bicep').resources.filter((resource) =>
    resource.type.startsWith('Microsoft.Authorization/roleAssignments@'),
  );

  function assignment(roleKey: string): Resource {
    const found = assignments.filter((resource) =>
      textAt(resource, 'properties.roleDefinitionId').includes(`roles.${roleKey})`),
    );
    expect(found, roleKey).toHaveLength(1);
    const [first] = found;
    if (!first) throw new Error(roleKey);
    return first;
  }

  it.each([
    ['storageBlobDataOwner', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'storage'],
    ['storageQueueDataContributor', '974c5e8b-45b9-4653-ba55-5f855dd0fb88', 'storage'],
    ['storageTableDataContributor', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', 'storage'],
    ['keyVaultSecretsUser', '4633458b-17de-408a-b874-0445c86b69e6', 'vault'],
    ['monitoringMetricsPublisher', '3913510d-42f4-4e42-8a64-420c390055eb', 'applicationInsights'],
  ])('gives the app identity %s on %s', (roleKey, roleId, scope) => {
    expect(literal(roles.get(roleKey))).toBe(roleId);
    const resource = assignment(roleKey);
    expect(textAt(resource, 'scope')).toBe(scope);
    expect(textAt(resource, 'properties.principalId')).toBe('identityPrincipalId');
    expect(valueAt(resource, 'properties.principalType')).toBe('ServicePrincipal');
    expect(resource.conditional).toBe(false);
  });

  it('gives the deployer, when given, Key Vault Secrets Officer and nothing else', () => {
    expect(literal(roles.get('keyVaultSecretsOfficer'))).toBe('b86a8fe4-44ce-4948-aee5-eccb2c155cd7');
    const resource = assignment('keyVaultSecretsOfficer');
    expect(resource.conditional).toBe(true);
    expect(textAt(resource, 'scope')).toBe('vault');
    expect(textAt(resource, 'properties.principalType')).toBe('deployerPrincipalType');
    const deployer = assignments.filter(
      (candidate) => textAt(candidate, 'properties.principalId') === 'deployerPrincipalId',
    );
    expect(deployer).toEqual([resource]);
    const main = byFile('infra/main.bicep');
    expect(compact(moduleParam(main, 'app/role-assignments.bicep', 'deployerPrincipalId'))).toBe(
      'principalId',
    );
    expect(paramDefault(main, 'principalType')).toBe('User');
  });

  it('assigns no broad role (Owner, Contributor, User Access Administrator)', () => {
    const broad = [
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      'b24988ac-6180-42a0-ab88-20f7382dd24c',
      '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    ];
    for (const file of files)
      expect(
        broad.filter((id) => file.root.text.includes(id)),
        file.file,
      ).toEqual([]);
  });
});

describe('app registration (Microsoft Graph Bicep extension)', () => {
  const { file, resource: app } = only('Microsoft.Graph/applications');

  it('is multi-tenant with the application permissions the sync and the consent callback need', () => {
    expect(valueAt(app, 'signInAudience')).toBe('AzureADMultipleOrgs');
    const access = property(app.body, 'requiredResourceAccess');
    expect(access?.text).toContain('microsoftGraphAppId');
    expect(literal(file.variables.get('microsoftGraphAppId'))).toBe('00000003-0000-0000-c000-000000000000');
    const permissions = properties(file.variables.get('graphPermissions'));
    expect(Object.fromEntries([...permissions].map(([key, value]) => [key, literal(value)]))).toEqual({
      userReadAll: 'df021288-bdef-4463-88db-98f22de89214',
      groupMemberReadAll: '98830695-27a2-44f7-8c18-0c3ebc9698f6',
      organizationReadAll: '498476ce-e0fe-48b0-b801-37ba7e2685c6',
    });
    for (const key of permissions.keys()) expect(access?.text).toContain(`graphPermissions.${key}`);
    expect(access?.text.match(/type: 'Role'/g)).toHaveLength(3);
  });

  it('registers the consent callback, the EntraSync.Admin role and an identifier URI', () => {
    expect(textAt(app, 'web.redirectUris')).toBe('[consentRedirectUri]');
    expect(compact(byFile('infra/main.bicep').variables.get('consentRedirectUri'))).toBe(
      "'https://${functionApp.outputs.defaultHostName}/api/consent/callback'",
    );
    expect(property(app.body, 'appRoles')?.text).toContain("value: 'EntraSync.Admin'");
    expect(textAt(app, 'identifierUris')).toBe('[identifierUri]');
    expect(
      compact(moduleParam(byFile('infra/main.bicep'), 'app/app-registration.bicep', 'identifierUri')),
    ).toBe("'api://${tenant().tenantId}/${appUniqueName}'");
  });

  it('feeds ADMIN_API_AUDIENCE and ADMIN_TENANT_ID', () => {
    const main = byFile('infra/main.bicep');
    expect(compact(main.variables.get('appClientId'))).toBe(
      'createAppRegistration?appRegistration!.outputs.clientId:adminApiAudience',
    );
    expect(compact(moduleParam(main, 'app/app-settings.bicep', 'adminApiAudience'))).toBe('appClientId');
    expect(compact(moduleParam(main, 'app/app-settings.bicep', 'adminTenantId'))).toBe(
      'effectiveAdminTenantId',
    );
    expect(file.outputs.find((output) => output.name === 'clientId')?.value.text).toBe('application.appId');
  });
});
