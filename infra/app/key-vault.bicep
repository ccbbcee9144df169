// Key Vault in RBAC mode for the connections' client secrets (or certificates) and the consent-state
// signing key. The app reads them at run time with its identity (KEY_VAULT_URL); nobody gets an
// access policy, and a deleted vault or secret stays recoverable (soft delete, purge protection).

@description('Required. Name of the vault (3-24 characters).')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for the vault.')
param tags object = {}

@minValue(7)
@maxValue(90)
@description('Optional. Days a deleted vault or secret stays recoverable. Fixed once the vault exists.')
param softDeleteRetentionInDays int = 90

@description('Required. Name of the secret holding the consent-state signing key (CONSENT_STATE_SECRET_NAME).')
param consentStateSecretName string

@description('Optional. Create the consent-state signing key. false once it exists, so that a redeployment leaves it alone.')
param createConsentStateKey bool = true

// Key Vault has no create-if-absent and Bicep no random bytes: newGuid() (random, and allowed only in a
// parameter default) gives 3 x 122 random bits, stored base64url as the app expects (at least 32 bytes).
@secure()
@description('Optional. Seed of the consent-state signing key; leave it to its random default.')
param consentStateKeySeed string = '${newGuid()}${newGuid()}${newGuid()}'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// The app uses the oldest enabled version of this secret, so an extra version (a deployment from an
// azd environment that has not seen ENTRASYNC_CONSENT_STATE_KEY_EXISTS) changes nothing.
resource consentStateSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (createConsentStateKey) {
  parent: vault
  name: consentStateSecretName
  tags: {
    'created-by': 'EntraSync'
  }
  properties: {
    value: replace(replace(replace(base64(consentStateKeySeed), '+', '-'), '/', '_'), '=', '')
    contentType: 'application/octet-stream; encoding=base64url'
  }
}

output name string = vault.name
output resourceId string = vault.id
output uri string = vault.properties.vaultUri
