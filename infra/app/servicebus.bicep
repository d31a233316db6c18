// Service Bus namespace (Standard, Entra-only) with the `intake` queue the Intake function reads.

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Queue the Intake function listens on; must match the function declaration.')
param intakeQueueName string = 'intake'

module namespace 'br/public:avm/res/service-bus/namespace:0.17.0' = {
  name: 'servicebusnamespace'
  params: {
    name: name
    location: location
    tags: tags
    skuObject: {
      name: 'Standard'
    }
    // Zone redundancy in this module needs the Premium tier.
    zoneRedundant: false
    minimumTlsVersion: '1.2'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    // No shared access policies at all (the module adds RootManageSharedAccessKey by default).
    authorizationRules: []
    queues: [
      {
        name: intakeQueueName
        requiresDuplicateDetection: true
        duplicateDetectionHistoryTimeWindow: 'PT10M'
        maxDeliveryCount: 10
        deadLetteringOnMessageExpiration: true
        lockDuration: 'PT1M'
        requiresSession: false
        enablePartitioning: false
      }
    ]
  }
}

output name string = namespace.outputs.name
output resourceId string = namespace.outputs.resourceId
// Public Azure cloud host name, the form ServiceBusConnection__fullyQualifiedNamespace expects.
output fullyQualifiedNamespace string = '${namespace.outputs.name}.servicebus.windows.net'
output intakeQueueName string = intakeQueueName
