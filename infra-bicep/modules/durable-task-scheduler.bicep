metadata description = 'Durable Task Scheduler (managed Durable backend) with the task hub the app uses. Deployed only when durableBackend = DurableTaskScheduler.'

@description('Name of the scheduler.')
param name string

@description('Name of the task hub; must equal hubName in host.json.')
param taskHubName string

@description('Azure region.')
param location string

@description('Tags applied to the scheduler.')
param tags object

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'Consumption'
    }
    // An empty allow list denies all traffic; access is still gated by Entra ID role assignments.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
