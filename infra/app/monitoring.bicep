// Log Analytics and workspace-based Application Insights. Local (instrumentation key) authentication is
// off: the app sends telemetry with its identity (Monitoring Metrics Publisher), so the connection string
// alone cannot be used to write into it.

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Azure region.')
param location string

@description('Optional. Tags for both resources.')
param tags object = {}

@minValue(30)
@maxValue(730)
@description('Optional. Days the workspace keeps logs.')
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

// No connection string output: the app settings module reads it from the resource directly.
output applicationInsightsName string = applicationInsights.name
output logAnalyticsName string = workspace.name
