// Flex Consumption plan + function app for the ITSM API.
//
// The app is a .NET 10 isolated-worker Functions app (framework-dependent; the platform provides
// .NET 10). On Flex the language stack is chosen by functionAppConfig.runtime
// ({ name: 'dotnet-isolated', version: '10.0' }), not by app settings: FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION are listed as deprecated for Flex Consumption ("Flex Consumption
// plan deprecations" in the Functions app settings reference) and are therefore not set here.

param name string
param planName string
param location string = resourceGroup().location
param tags object = {}

@description('azd service this app hosts (matches services.<name> in azure.yaml).')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Client id of that identity.')
param identityClientId string

param storageAccountName string
param deploymentContainerName string

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

param applicationInsightsConnectionString string
param cosmosEndpoint string
param cosmosDatabaseName string
param tenantId string

@description('Client id of the Entra app registration of the API.')
param apiClientId string

@description('Audience the API accepts, e.g. api://<apiClientId>.')
param apiAudience string

@description('URI of the Key Vault holding the app\'s secrets (ends with a slash).')
param keyVaultUri string

@description('Host name of the Service Bus namespace the event feed is published to.')
param serviceBusNamespace string

@description('The topic of the event feed.')
param serviceBusTopic string

@description('Approvers from Entra ID through Graph: requesters\' managers (needs User.Read.All).')
param directoryManagers bool = false

@description('Approvers from Entra ID through Graph: approval groups\' members (needs GroupMember.Read.All).')
param directoryGroups bool = false

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// App settings. The names are read by the application and the Functions host; do not rename.
// tests/Itsm.Functions.Tests/Deployment/InfraConsistencyTests.cs checks them against the code.
var appSettings = {
  // Host storage (leases, keys, the Durable task hub) and the `intake` queue trigger and outputs (connection
  // "AzureWebJobsStorage"), all through the user-assigned identity.
  AzureWebJobsStorage__accountName: storageAccount.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId

  // Application Insights with Entra authentication (local auth is off on the component).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

  // Ticket store.
  Itsm__Store__Provider: 'Cosmos'
  Itsm__Cosmos__AccountEndpoint: cosmosEndpoint
  Itsm__Cosmos__DatabaseName: cosmosDatabaseName
  Itsm__Cosmos__ManagedIdentityClientId: identityClientId

  // Bearer-token validation done by the app itself.
  Itsm__Auth__TenantId: tenantId
  Itsm__Auth__Audience: apiAudience
  Itsm__Auth__Instance: environment().authentication.loginEndpoint
  Itsm__Auth__PlatformAuthenticationEnabled: 'true'

  // Approval links are signed with this key: one key for every instance, so a link minted by one verifies on
  // another. A Key Vault reference resolved by the platform with the user-assigned identity
  // (keyVaultAccessIdentityResourceId below); the postprovision hook creates the secret once.
  Itsm__Approvals__LinkKey: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/approval-link-key/)'

  // Approvers from the directory: off until an admin grants the Graph permissions (docs/deploy.md). Set here, not by
  // hand, because this deployment replaces the app's settings.
  Itsm__Graph__DirectoryManagers: directoryManagers ? 'true' : 'false'
  Itsm__Graph__DirectoryGroups: directoryGroups ? 'true' : 'false'

  // The event feed's Service Bus topic (Azure Service Bus Data Sender for the identity: rbac.bicep).
  Itsm__Events__ServiceBus__FullyQualifiedNamespace: serviceBusNamespace
  Itsm__Events__ServiceBus__Topic: serviceBusTopic
  Itsm__Events__ServiceBus__ManagedIdentityClientId: identityClientId

  // DefaultAzureCredential / ManagedIdentityCredential pick the user-assigned identity from this.
  AZURE_CLIENT_ID: identityClientId
}

module plan 'br/public:avm/res/web/serverfarm:0.7.0' = {
  name: 'flexplan'
  params: {
    name: planName
    location: location
    tags: tags
    // Same parameter set as the module's own FC1 end-to-end test (tests/e2e/flexible-consumption).
    skuName: 'FC1'
    reserved: true
    zoneRedundant: false
  }
}

module site 'br/public:avm/res/web/site:0.24.0' = {
  name: '${serviceName}-flex-consumption'
  params: {
    name: name
    location: location
    kind: 'functionapp,linux'
    tags: union(tags, { 'azd-service-name': serviceName })
    serverFarmResourceId: plan.outputs.resourceId
    httpsOnly: true
    clientAffinityEnabled: false
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [
        identityResourceId
      ]
    }
    keyVaultAccessIdentityResourceId: identityResourceId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    // Overrides the module default (alwaysOn: true), which Flex Consumption does not support.
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
    }
    configs: [
      {
        name: 'appsettings'
        // Bicep is the source of truth: settings removed here are removed from the app.
        retainCurrentAppSettings: false
        properties: appSettings
      }
      {
        // App Service Authentication (Easy Auth) with Entra ID. It validates bearer tokens it sees
        // and passes the caller's identity on, but lets anonymous requests reach the app: the
        // app validates tokens and app roles itself and also serves anonymous routes (health).
        name: 'authsettingsV2'
        properties: {
          platform: {
            enabled: true
          }
          globalValidation: {
            requireAuthentication: false
            unauthenticatedClientAction: 'AllowAnonymous'
          }
          httpSettings: {
            requireHttps: true
          }
          identityProviders: {
            azureActiveDirectory: {
              enabled: true
              registration: {
                clientId: apiClientId
                openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
              }
              validation: {
                allowedAudiences: [
                  apiAudience
                  apiClientId
                ]
              }
            }
          }
          login: {
            tokenStore: {
              enabled: false
            }
          }
        }
      }
    ]
  }
}

output name string = site.outputs.name
output resourceId string = site.outputs.resourceId
output defaultHostname string = site.outputs.defaultHostname
output planResourceId string = plan.outputs.resourceId
