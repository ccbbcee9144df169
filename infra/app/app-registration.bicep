// The multi-tenant EntraSync app registration, declared with the Microsoft Graph Bicep extension
// (alias in ../bicepconfig.json). Customer tenants consent to its application permissions; the admin
// API accepts tokens for it that carry the EntraSync.Admin app role. Client secrets cannot be declared
// here (the extension does not create credentials): docs/deploy.md adds one to Key Vault.

extension microsoftGraphV1

@description('Required. Stable key of the application (Graph uniqueName); a redeployment updates the same one.')
param uniqueName string

@description('Required. Name shown to administrators on consent pages and in Enterprise applications.')
param displayName string

@description('Required. Application ID URI, in a form Entra accepts for multi-tenant apps (api://<tenant id>/<name>).')
param identifierUri string

@description('Required. The admin consent callback, https://<function app host>/api/consent/callback.')
param consentRedirectUri string

@description('Required. The admin console\'s page, https://<function app host>/api/console/: its sign-in redirect URI.')
param consoleRedirectUri string

@description('Optional. Object id of a user or service principal to assign the EntraSync.Admin app role. Empty: none.')
param adminPrincipalId string = ''

var microsoftGraphAppId = '00000003-0000-0000-c000-000000000000'

// Microsoft Graph application permissions (app role ids, the same in every tenant).
var graphPermissions = {
  userReadAll: 'df021288-bdef-4463-88db-98f22de89214' // User.Read.All: users and their attributes
  groupMemberReadAll: '98830695-27a2-44f7-8c18-0c3ebc9698f6' // GroupMember.Read.All: groups and members
  organizationReadAll: '498476ce-e0fe-48b0-b801-37ba7e2685c6' // Organization.Read.All: the consent callback reads /organization
}

// Stable ids: derived from uniqueName so that every deployment declares the same role and scope.
var adminRoleId = guid(uniqueName, 'app-role', 'EntraSync.Admin')
var adminScopeId = guid(uniqueName, 'scope', 'access_as_admin')

resource application 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMultipleOrgs'
  identifierUris: [
    identifierUri
  ]
  web: {
    redirectUris: [
      consentRedirectUri
    ]
    implicitGrantSettings: {
      enableAccessTokenIssuance: false
      enableIdTokenIssuance: false
    }
  }
  // The console is a single-page app: authorization code with PKCE, no secret, tokens via CORS.
  spa: {
    redirectUris: [
      consoleRedirectUri
    ]
  }
  api: {
    // v2 access tokens: their audience (aud) is the client id, which ADMIN_API_AUDIENCE holds.
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: adminScopeId
        value: 'access_as_admin'
        type: 'Admin'
        isEnabled: true
        adminConsentDisplayName: 'Use the EntraSync admin API'
        adminConsentDescription: 'Lets the EntraSync console call the admin API for the signed-in administrator, who also needs the EntraSync.Admin role.'
      }
    ]
  }
  appRoles: [
    {
      id: adminRoleId
      value: 'EntraSync.Admin'
      displayName: 'EntraSync administrator'
      description: 'Manage connections, run previews, imports and syncs, approve held deletions, start admin consent.'
      allowedMemberTypes: [
        'User'
        'Application'
      ]
      isEnabled: true
    }
  ]
  requiredResourceAccess: [
    {
      resourceAppId: microsoftGraphAppId
      resourceAccess: [
        {
          id: graphPermissions.userReadAll
          type: 'Role'
        }
        {
          id: graphPermissions.groupMemberReadAll
          type: 'Role'
        }
        {
          id: graphPermissions.organizationReadAll
          type: 'Role'
        }
      ]
    }
  ]
}

// The home tenant's service principal. Only principals assigned an app role get tokens for the admin
// API at all; the API still checks for EntraSync.Admin itself.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: application.appId
  appRoleAssignmentRequired: true
}

resource adminAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (!empty(adminPrincipalId)) {
  appRoleId: adminRoleId
  principalId: adminPrincipalId
  resourceId: servicePrincipal.id
}

output clientId string = application.appId
output identifierUri string = identifierUri
output servicePrincipalId string = servicePrincipal.id
