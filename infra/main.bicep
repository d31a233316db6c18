// ItsmFunctions: everything `azd provision` creates.
//
// One resource group per azd environment holds a Flex Consumption function app (.NET 10 isolated worker),
// its user-assigned identity, Storage (deployment package, host, Durable task hub), Cosmos DB,
// Service Bus, Log Analytics + Application Insights and Key Vault. Every role assignment lives in
// app/rbac.bicep. No secret or connection string is created: all data access is Entra ID.
//
// Written against published AVM module sources and API documentation; never compiled here.
// See docs/deploy.md, section "What has been verified here and what has not".

targetScope = 'subscription'

import { cosmosContainerType } from 'app/cosmos.bicep'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. Used for the resource group name (rg-<environmentName>) and, hashed, in every resource name.')
param environmentName string

// Regions that offer Flex Consumption. Taken from the region list maintained in
// Azure-Samples/functions-quickstart-dotnet-azd (infra/main.bicep, last refreshed there on
// 2025-05-05, read here at that repository's commit of 2026-02-24), without the canary region
// eastus2euap. List checked in November 2026 (when this file was written) against that sample
// only, not against the live Azure API: Azure adds regions over time, so confirm with
// `az functionapp list-flexconsumption-locations -o table` and extend the list when needed.
@minLength(1)
@description('Primary location for all resources. Must offer the Flex Consumption plan.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the signed-in user (azd sets AZURE_PRINCIPAL_ID). Gets optional data-plane roles for troubleshooting. Leave empty to grant nothing.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principal principalId refers to: User for a person, ServicePrincipal for a pipeline identity.')
param principalType string = 'User'

@minLength(36)
@maxLength(36)
@description('Application (client) id of the Entra app registration that represents the ITSM API (the one that declares the Itsm.* app roles).')
param apiClientId string

@description('Audience the API accepts in bearer tokens. Empty means api://<apiClientId>.')
param apiAudience string = ''

@minValue(40)
@maxValue(1000)
@description('Upper bound of Flex Consumption instances for the app (Flex accepts 40 to 1000).')
param maximumInstanceCount int = 100

@description('Turn on Key Vault purge protection. Once on it can never be turned off, and a deleted vault name stays taken for the retention period. Use false for throwaway environments.')
param keyVaultPurgeProtection bool = true

@description('Read requesters\' managers for approvals from Entra ID (Graph GET /users/{id}/manager). Needs the Microsoft Graph application permission User.Read.All, granted to the app\'s identity by an admin (docs/deploy.md).')
param directoryManagers bool = false

@description('Read the members of approval groups named by an Entra group object id from Entra ID (Graph transitiveMembers). Needs the Microsoft Graph application permission GroupMember.Read.All, granted by an admin (docs/deploy.md).')
param directoryGroups bool = false

@description('Give principalId data-plane access (Key Vault Secrets Officer, Service Bus Data Sender and Receiver, Cosmos DB Built-in Data Contributor) for troubleshooting.')
param grantDeployerDataAccess bool = true

// Cosmos containers: one entry per ContainerDefinition of the code (TicketStore.Tickets, TicketStore.Counters,
// CmdbStore.Cis, CmdbImportJobs.Imports, the intake and notification containers, ApprovalStore.Approvals, ...),
// same name, same partition key paths, and the indexing policy CosmosDocumentStore.IndexingPolicyFor builds:
// range indexes on id, the partition key paths and the queryable fields only (everything else excluded),
// array elements for array fields, one composite index (field, id) per sortable field.
// tests/Itsm.Functions.Tests/Deployment/InfraConsistencyTests.cs fails when this list and the code drift apart.
// A changed partition key means a new container: Cosmos DB cannot change the key of an existing one.
@description('Containers of the `itsm` Cosmos DB database; keep in step with the Cosmos adapter (a test compares them).')
param cosmosContainers cosmosContainerType[] = [
  {
    name: 'surveys'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/state/?' }
        { path: '/ticketType/?' }
        { path: '/agent/id/?' }
        { path: '/group/?' }
        { path: '/service/?' }
        { path: '/invitedAt/?' }
        { path: '/remindAt/?' }
        { path: '/expiresAt/?' }
        { path: '/answeredAt/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/state', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/ticketType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/agent/id', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/group', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/service', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/invitedAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/remindAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/expiresAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/answeredAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'tickets'
    partitionKeyPaths: [
      '/tenantId'
      '/ticketId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/ticketId/?' }
        { path: '/docType/?' }
        { path: '/type/?' }
        { path: '/state/?' }
        { path: '/priority/?' }
        { path: '/number/?' }
        { path: '/title/?' }
        { path: '/assignee/id/?' }
        { path: '/assignmentGroup/?' }
        { path: '/requester/id/?' }
        { path: '/configurationItems/[]/?' }
        { path: '/createdAt/?' }
        { path: '/updatedAt/?' }
        { path: '/at/?' }
        { path: '/sequence/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/type', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/state', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/priority', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/number', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/title', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/assignee/id', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/assignmentGroup', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/requester/id', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/createdAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/updatedAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/at', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/sequence', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'counters'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: []
    }
  }
  {
    name: 'cis'
    partitionKeyPaths: [
      '/tenantId'
      '/ciId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/ciId/?' }
        { path: '/docType/?' }
        { path: '/class/?' }
        { path: '/name/?' }
        { path: '/status/?' }
        { path: '/environment/?' }
        { path: '/ownerGroup/?' }
        { path: '/supportGroup/?' }
        { path: '/criticality/?' }
        { path: '/externalKey/?' }
        { path: '/direction/?' }
        { path: '/type/?' }
        { path: '/createdAt/?' }
        { path: '/updatedAt/?' }
        { path: '/at/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/class', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/name', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/status', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/environment', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/ownerGroup', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/supportGroup', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/criticality', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/externalKey', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/direction', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/type', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/createdAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/updatedAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/at', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'cmdbImports'
    partitionKeyPaths: [
      '/tenantId'
      '/jobId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/jobId/?' }
        { path: '/docType/?' }
        { path: '/index/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/index', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'intakeThreads'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: []
    }
  }
  {
    name: 'kbArticles'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/articleId/?' }
        { path: '/kind/?' }
        { path: '/state/?' }
        { path: '/audience/?' }
        { path: '/owner/id/?' }
        { path: '/reviewAt/?' }
        { path: '/updatedAt/?' }
        { path: '/at/?' }
        { path: '/searchText/?' }
        { path: '/tickets/[]/?' }
        { path: '/problems/[]/?' }
        { path: '/cis/[]/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/articleId', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/kind', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/state', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/audience', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/owner/id', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/reviewAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/updatedAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/at', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/searchText', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'mailSubscriptions'
    partitionKeyPaths: [
      '/mailbox'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/mailbox/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: []
    }
  }
  {
    name: 'notificationOutbox'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/state/?' }
        { path: '/nextAttemptAt/?' }
        { path: '/createdAt/?' }
        { path: '/eventKind/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/state', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/nextAttemptAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/createdAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/eventKind', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'notificationSettings'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: []
    }
  }
  {
    name: 'approvals'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/subjectId/?' }
        { path: '/createdAt/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/subjectId', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/createdAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'catalog'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/target/?' }
        { path: '/at/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/target', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/at', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    // The per-tenant event feed: log entries and the sequencer's head document (docs/events.md).
    name: 'events'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/position/?' }
        { path: '/type/?' }
        { path: '/recordedAt/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/position', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/type', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/recordedAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    name: 'reports'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/slice/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/slice', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
  {
    // Webhook subscriptions and their deliveries, per tenant (docs/events.md).
    name: 'webhooks'
    partitionKeyPaths: [
      '/tenantId'
    ]
    indexingPolicy: {
      automatic: true
      indexingMode: 'consistent'
      includedPaths: [
        { path: '/id/?' }
        { path: '/tenantId/?' }
        { path: '/docType/?' }
        { path: '/subscriptionId/?' }
        { path: '/status/?' }
        { path: '/position/?' }
        { path: '/nextAttemptAt/?' }
        { path: '/createdAt/?' }
      ]
      excludedPaths: [
        { path: '/*' }
      ]
      compositeIndexes: [
        [
          { path: '/docType', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/subscriptionId', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/status', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/position', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/nextAttemptAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
        [
          { path: '/createdAt', order: 'ascending' }
          { path: '/id', order: 'ascending' }
        ]
      ]
    }
  }
]

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'itsm-functions'
}
var effectiveAudience = empty(apiAudience) ? 'api://${apiClientId}' : apiAudience
var cosmosDatabaseName = 'itsm'
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Blob container that holds the Flex deployment package (3-63 chars, lowercase, single hyphens).
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The one identity the app uses for Storage, Service Bus, Cosmos DB, Key Vault, Application
// Insights and (granted by an admin afterwards) Microsoft Graph.
module apiIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'apiIdentity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
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
    deploymentContainerName: deploymentContainerName
  }
}

module cosmos 'app/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containers: cosmosContainers
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: '${abbrs.serviceBusNamespaces}${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: apiIdentity.outputs.principalId
    userPrincipalId: grantDeployerDataAccess ? principalId : ''
    userPrincipalType: principalType
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    cosmosAccountName: cosmos.outputs.name
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityResourceId: apiIdentity.outputs.resourceId
    identityClientId: apiIdentity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmosDatabaseName
    tenantId: tenant().tenantId
    apiClientId: apiClientId
    apiAudience: effectiveAudience
    keyVaultUri: keyVault.outputs.uri
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopic: serviceBus.outputs.topicName
    directoryManagers: directoryManagers
    directoryGroups: directoryGroups
  }
  // The host should find its data-plane roles in place the first time it starts.
  dependsOn: [
    rbac
  ]
}

// Outputs: azd stores these in .azure/<env>/.env; the postprovision hook prints the important ones.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_URI string = 'https://${api.outputs.defaultHostname}'
output SERVICE_API_NAME string = api.outputs.name
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_COSMOS_DATABASE_NAME string = cosmosDatabaseName
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_SERVICEBUS_TOPIC string = serviceBus.outputs.topicName
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output INTAKE_QUEUE_NAME string = storage.outputs.intakeQueueName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_USER_ASSIGNED_IDENTITY_NAME string = apiIdentity.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = apiIdentity.outputs.clientId
output AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID string = apiIdentity.outputs.principalId
output ITSM_API_AUDIENCE string = effectiveAudience
