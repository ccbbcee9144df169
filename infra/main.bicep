// EntraSync in the customer's own subscription: `azd up` creates the resource group and everything in
// it, plus (optionally) the multi-tenant app registration. See docs/deploy.md.

targetScope = 'subscription'

import { scaleSettingsType, secretAppSettingType } from 'app/types.bicep'

@minLength(1)
@maxLength(64)
@description('Required. Name of the azd environment; seeds every resource name and tags the resource group.')
param environmentName string

@minLength(1)
@description('Required. Azure region for every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional. Object id of whoever runs the deployment: gets Key Vault Secrets Officer (to add client secrets) and the EntraSync.Admin app role. Empty: neither.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Optional. Whether principalId is a user or a service principal (a pipeline).')
param principalType string = 'User'

@description('Optional. Name of the resource group. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Declare the multi-tenant app registration with the Microsoft Graph Bicep extension (the deployer must be allowed to register applications). false: register it yourself and set adminApiAudience.')
param createAppRegistration bool = true

@description('Conditional. Required when createAppRegistration is false: client id of the existing EntraSync app registration (ADMIN_API_AUDIENCE).')
param adminApiAudience string = ''

@minLength(1)
@maxLength(120)
@description('Optional. Display name of the app registration, as customer administrators see it on the consent page.')
param appDisplayName string = 'EntraSync'

@description('Optional. ADMIN_TENANT_ID: the tenant whose administrators use the admin API. Empty: the tenant of this deployment.')
param adminTenantId string = ''

@description('Optional. ADMIN_AUTHORITY_HOST: where admin tokens are issued. Empty: the login endpoint of the cloud deployed to.')
param adminAuthorityHost string = ''

@description('Optional. SYNC_SCHEDULE: when the timer sync runs, six-field NCRONTAB.')
param syncSchedule string = '0 */15 * * * *'

@minLength(3)
@maxLength(56)
@description('Optional. IMPORT_QUEUE_NAME. At most 56 characters, so that "<name>-poison" is a valid queue name too.')
param importQueueName string = 'entrasync-import'

@minLength(1)
@maxLength(30)
@description('Optional. TABLE_PREFIX: prefix of every table the app owns.')
param tablePrefix string = 'EntraSync'

@minValue(0)
@maxValue(3600)
@description('Optional. GRAPH_RETRY_BUDGET_SECONDS: the longest a run waits in total on Graph throttling.')
param graphRetryBudgetSeconds int = 300

@minLength(1)
@maxLength(127)
@description('Optional. CONSENT_STATE_SECRET_NAME: the Key Vault secret holding the consent-state signing key.')
param consentStateSecretName string = 'consent-state-key'

@description('Optional. Whether the consent-state signing key already exists in the vault; azd keeps it from the ENTRASYNC_CONSENT_STATE_KEY_EXISTS output. false: create one.')
param consentStateKeyExists bool = false

@description('Optional. App settings whose values are Key Vault references, e.g. for connections that use { "env": "NAME" } secret references. Empty: none (the app reads Key Vault itself).')
param secretAppSettings secretAppSettingType[] = []

@description('Optional. Flex Consumption scale-out limits.')
param scale scaleSettingsType = {
  maximumInstanceCount: 40
  instanceMemoryMB: 2048
}

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
@description('Optional. Storage redundancy. The tables are the application\'s user store: prefer Standard_ZRS where the region offers it.')
param storageSkuName string = 'Standard_LRS'

@minValue(7)
@maxValue(90)
@description('Optional. Days a deleted Key Vault or secret stays recoverable; purge protection keeps the vault name taken that long after azd down.')
param keyVaultSoftDeleteRetentionInDays int = 90

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var deploymentContainerName = 'app-package'
var appUniqueName = 'entrasync-${resourceToken}'

// environment() gives the login endpoint with a trailing slash; ADMIN_AUTHORITY_HOST has none.
func withoutTrailingSlash(url string) string => endsWith(url, '/') ? substring(url, 0, length(url) - 1) : url

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: deploymentContainerName
    queueNames: [
      importQueueName
      '${importQueueName}-poison'
    ]
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    consentStateSecretName: consentStateSecretName
    createConsentStateKey: !consentStateKeyExists
  }
}

module roleAssignments 'app/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: '${abbrs.webSitesFunctions}${resourceToken}'
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityResourceId: identity.outputs.resourceId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    scale: scale
  }
}

var consentRedirectUri = 'https://${functionApp.outputs.defaultHostName}/api/consent/callback'
// The admin console signs administrators in from its own page (a single-page app with PKCE).
var consoleUri = 'https://${functionApp.outputs.defaultHostName}/api/console/'

module appRegistration 'app/app-registration.bicep' = if (createAppRegistration) {
  name: 'app-registration'
  scope: rg
  params: {
    uniqueName: appUniqueName
    displayName: appDisplayName
    identifierUri: 'api://${tenant().tenantId}/${appUniqueName}'
    consentRedirectUri: consentRedirectUri
    consoleRedirectUri: consoleUri
    adminPrincipalId: principalId
  }
}

var appClientId = createAppRegistration ? appRegistration!.outputs.clientId : adminApiAudience
var effectiveAdminTenantId = empty(adminTenantId) ? tenant().tenantId : adminTenantId
var effectiveAuthorityHost = empty(adminAuthorityHost) ? withoutTrailingSlash(environment().authentication.loginEndpoint) : adminAuthorityHost

module appSettings 'app/app-settings.bicep' = {
  name: 'app-settings'
  scope: rg
  params: {
    functionAppName: functionApp.outputs.name
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    adminTenantId: effectiveAdminTenantId
    adminApiAudience: appClientId
    adminAuthorityHost: effectiveAuthorityHost
    consentRedirectUri: consentRedirectUri
    syncSchedule: syncSchedule
    importQueueName: importQueueName
    tablePrefix: tablePrefix
    graphRetryBudgetSeconds: graphRetryBudgetSeconds
    consentStateSecretName: consentStateSecretName
    secretAppSettings: secretAppSettings
  }
  // The host starts as soon as its settings exist: give it its roles first.
  dependsOn: [
    roleAssignments
  ]
}

// For azd (written to .azure/<env>/.env) and docs/deploy.md. Names and URLs only, never a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URL string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output ENTRASYNC_APP_CLIENT_ID string = appClientId
output ENTRASYNC_APP_IDENTIFIER_URI string = createAppRegistration ? appRegistration!.outputs.identifierUri : ''
output ADMIN_TENANT_ID string = effectiveAdminTenantId
output ADMIN_API_AUDIENCE string = appClientId
output CONSENT_REDIRECT_URI string = consentRedirectUri
output CONSOLE_URL string = consoleUri
output ENTRASYNC_CONSENT_STATE_KEY_EXISTS bool = true
