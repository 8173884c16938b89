metadata description = 'Service Bus namespace for integration events: one topic that receives every PrmFunctions event (duplicate detection on, so the outbox can resend safely) and a subscription for the CRM sync.'

@description('Name of the namespace.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object

@description('Topic that receives every PrmFunctions event.')
param topicName string

@description('Subscription the CRM synchronisation reads from.')
param crmSubscriptionName string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    // The outbox uses the event id as MessageId; a resend after a lost acknowledgement is dropped here.
    // One day covers a dispatcher that catches up after a long broker or host outage.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
    supportOrdering: true
    enablePartitioning: false
  }
}

resource crmSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: topic
  name: crmSubscriptionName
  properties: {
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
  }
}

output name string = namespace.name
// serviceBusEndpoint looks like https://<name>.servicebus.windows.net:443/; clients want the bare host name.
output fullyQualifiedNamespace string = split(
  split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0],
  '/'
)[0]
output topicName string = topic.name
output crmSubscriptionName string = crmSubscription.name
