// The Function app on the Flex Consumption plan (FC1), Node 22, running as the user-assigned identity.
// App settings are a separate module (app-settings.bicep): they need the app registration's client id,
// and the app registration needs this app's host name for its redirect URI.

import { scaleSettingsType } from 'types.bicep'

@description('Required. Name of the Function app.')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for the plan and the app; the app also gets azd-service-name.')
param tags object = {}

@description('Required. The azure.yaml service this app hosts (the azd-service-name tag).')
param serviceName string

@description('Required. Resource id of the user-assigned managed identity the app runs as.')
param identityResourceId string

@description('Required. Name of the storage account holding the deployment container.')
param storageAccountName string

@description('Required. Blob container for the deployment package.')
param deploymentContainerName string

@description('Optional. Scale-out limits.')
param scale scaleSettingsType = {
  maximumInstanceCount: 40
  instanceMemoryMB: 2048
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references in app settings resolve with this identity (there is no system-assigned one).
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: scale.maximumInstanceCount
        instanceMemoryMB: scale.instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

output name string = functionApp.name
output resourceId string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
