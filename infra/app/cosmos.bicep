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
}

param name string
param location string = resourceGroup().location
param tags object = {}
param databaseName string = 'itsm'

// ▼ Cosmos containers: declared by the tickets work through main.bicep's `cosmosContainers`.
@description('Containers to create in the database.')
param containers cosmosContainerType[] = []

var containerDefinitions = map(containers, c => {
  name: c.name
  paths: c.partitionKeyPaths
  kind: length(c.partitionKeyPaths) > 1 ? 'MultiHash' : 'Hash'
  version: 2
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
