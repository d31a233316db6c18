// Service Bus namespace (Standard, Entra-only) for what the product publishes (ticket and change events for
// other systems). Intake no longer uses Service Bus: it reads the Storage queue `intake` (storage.bicep).

param name string
param location string = resourceGroup().location
param tags object = {}

@description('The topic the app publishes its event feed to (docs/events.md); subscribers add their own subscriptions, session-enabled for per-ticket order.')
param topicName string = 'itsm-events'

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
    // The event feed: message id = event id, so a resend after an outage is dropped within the window.
    topics: [
      {
        name: topicName
        requiresDuplicateDetection: true
        duplicateDetectionHistoryTimeWindow: 'PT1H'
        supportOrdering: true
        defaultMessageTimeToLive: 'P14D'
      }
    ]
  }
}

output name string = namespace.outputs.name
output resourceId string = namespace.outputs.resourceId
// Public Azure cloud host name, the form ServiceBusConnection__fullyQualifiedNamespace expects.
output fullyQualifiedNamespace string = '${namespace.outputs.name}.servicebus.windows.net'
output topicName string = topicName
