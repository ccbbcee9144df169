// The Function app's app settings, under the names shared/settings.ts reads (test/infra checks both
// ways). Storage and telemetry use the app's identity; no setting holds a key, a connection string with
// a key, or a secret. Secrets stay in Key Vault and the app reads them at run time (KEY_VAULT_URL), so
// no setting needs a Key Vault reference unless secretAppSettings asks for one.

import { secretAppSettingType } from 'types.bicep'

@description('Required. Name of the Function app.')
param functionAppName string

@description('Required. Client id of the app\'s user-assigned managed identity.')
param identityClientId string

@description('Required. Name of the storage account.')
param storageAccountName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. ADMIN_TENANT_ID: the tenant whose administrators use the admin API.')
param adminTenantId string

@description('Required. ADMIN_API_AUDIENCE: the client id of the EntraSync app registration (empty: no admin API).')
param adminApiAudience string

@description('Required. ADMIN_AUTHORITY_HOST: where admin tokens are issued.')
param adminAuthorityHost string

@description('Required. CONSENT_REDIRECT_URI: the consent callback, as registered on the app.')
param consentRedirectUri string

@description('Required. SYNC_SCHEDULE: six-field NCRONTAB.')
param syncSchedule string

@description('Required. IMPORT_QUEUE_NAME.')
param importQueueName string

@description('Required. TABLE_PREFIX.')
param tablePrefix string

@description('Required. GRAPH_RETRY_BUDGET_SECONDS.')
param graphRetryBudgetSeconds int

@description('Required. CONSENT_STATE_SECRET_NAME.')
param consentStateSecretName string

@description('Optional. Extra settings whose values are Key Vault references.')
param secretAppSettings secretAppSettingType[] = []

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var settings = {
  // Functions host storage, the import queue and the tables, with the identity (never a key).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // Telemetry with Entra ID: the connection string only says where to send (local auth is off).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // DefaultAzureCredential picks the user-assigned identity by this.
  AZURE_CLIENT_ID: identityClientId
  KEY_VAULT_URL: vault.properties.vaultUri
  SYNC_SCHEDULE: syncSchedule
  IMPORT_QUEUE_NAME: importQueueName
  TABLE_PREFIX: tablePrefix
  GRAPH_RETRY_BUDGET_SECONDS: string(graphRetryBudgetSeconds)
  ADMIN_TENANT_ID: adminTenantId
  ADMIN_API_AUDIENCE: adminApiAudience
  ADMIN_AUTHORITY_HOST: adminAuthorityHost
  CONSENT_REDIRECT_URI: consentRedirectUri
  CONSENT_STATE_SECRET_NAME: consentStateSecretName
}

// Versionless references: App Service picks up a rotated secret without a redeployment.
var secretReferences = toObject(secretAppSettings, setting => setting.name, setting => '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${setting.secretName}/)')

// Replaces every app setting on each deployment: settings added by hand do not survive `azd provision`
// (declare them here, or in secretAppSettings).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(secretReferences, settings)
}
