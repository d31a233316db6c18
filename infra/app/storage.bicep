// Storage account for the Functions host (AzureWebJobsStorage: blobs for leases and keys, queues
// and tables for the Durable task hub), the `intake` queue other systems post to (and its poison
// queue), and the Flex Consumption deployment package.
// Shared keys are off: every caller uses Entra ID (roles in rbac.bicep).

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Queue the Intake function reads; must match its [QueueTrigger] (IntakeFunctions.QueueName); its poison queue is `intake-poison`.')
param intakeQueueName string = 'intake'

module storageAccount 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'storageaccount'
  params: {
    name: name
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: 'Standard_LRS'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    // No virtual network in this deployment, so the account must accept public traffic (still
    // Entra-authenticated). The module's default network rule set denies everything.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containerDeleteRetentionPolicyEnabled: true
      containerDeleteRetentionPolicyDays: 7
      deleteRetentionPolicyEnabled: true
      deleteRetentionPolicyDays: 7
      containers: [
        {
          name: deploymentContainerName
          publicAccess: 'None'
        }
      ]
    }
    // Created here so senders can post before the app first runs; the host moves a message that failed
    // five times (host.json maxDequeueCount) to `<queue>-poison`, and so does the function for one that can never succeed.
    queueServices: {
      queues: [
        {
          name: intakeQueueName
        }
        {
          name: 'intake-poison'
        }
      ]
    }
  }
}

output name string = storageAccount.outputs.name
output resourceId string = storageAccount.outputs.resourceId
output blobEndpoint string = storageAccount.outputs.serviceEndpoints.blob
output queueEndpoint string = storageAccount.outputs.serviceEndpoints.queue
output intakeQueueName string = intakeQueueName
