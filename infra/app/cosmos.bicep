// Cosmos DB for NoSQL, serverless, Entra-only (local/key auth disabled). The app reaches it with
// the Cosmos DB Built-in Data Contributor SQL role assignment in rbac.bicep.

@export()
@description('A container of the itsm database.')
type cosmosContainerType = {
  @description('Container name, as the Cosmos adapter spells it.')
  name: string

  @minLength(1)
  @maxLength(3)
  @description('Partition key paths, e.g. [\'/tenantId\']. More than one path makes a hierarchical (MultiHash) key.')
  partitionKeyPaths: string[]

  @description('Indexing policy, exactly as the Cosmos adapter\'s IndexingPolicyFor builds it for this container. Omitted: the Cosmos DB default (consistent, every path indexed).')
  indexingPolicy: resourceInput<'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15'>.properties.resource.indexingPolicy?
}

param name string
param location string = resourceGroup().location
param tags object = {}
param databaseName string = 'itsm'

// Cosmos containers: declared in main.bicep's `cosmosContainers` (checked against the code by InfraConsistencyTests).
@description('Containers to create in the database.')
param containers cosmosContainerType[] = []

// The AVM module's container shape (sql-database/main.bicep `containerType` at 0.20.1): `paths`, `kind`,
// `version` and `indexingPolicy`. Hierarchical keys need kind MultiHash with version 2 (the module forces
// version 2 for MultiHash anyway); single keys use Hash version 2 as well (large partition key values).
var containerDefinitions = map(containers, c => {
  name: c.name
  paths: c.partitionKeyPaths
  kind: length(c.partitionKeyPaths) > 1 ? 'MultiHash' : 'Hash'
  version: 2
  indexingPolicy: c.?indexingPolicy
})

module account 'br/public:avm/res/document-db/database-account:0.20.1' = {
  name: 'cosmosaccount'
  params: {
    name: name
    location: location
    tags: tags
    capabilitiesToAdd: [
      'EnableServerless'
    ]
    failoverLocations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    zoneRedundant: false
    defaultConsistencyLevel: 'Session'
    disableLocalAuthentication: true
    disableKeyBasedMetadataWriteAccess: true
    minimumTlsVersion: 'Tls12'
    // Continuous backup with the 7-day tier (point-in-time restore within a week).
    backupPolicyType: 'Continuous'
    backupPolicyContinuousTier: 'Continuous7Days'
    // No virtual network in this deployment: public endpoint, Entra-authenticated.
    // The module's default is publicNetworkAccess 'Disabled'.
    networkRestrictions: {
      publicNetworkAccess: 'Enabled'
      networkAclBypass: 'None'
      ipRules: []
      virtualNetworkRules: []
    }
    sqlDatabases: [
      {
        name: databaseName
        // Serverless: no throughput at database or container level.
        containers: containerDefinitions
      }
    ]
  }
}

output name string = account.outputs.name
output resourceId string = account.outputs.resourceId
output endpoint string = account.outputs.endpoint
