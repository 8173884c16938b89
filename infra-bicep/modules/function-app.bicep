metadata description = 'Function App on the Flex Consumption plan (.NET 10 isolated worker), running as a user-assigned identity: identity-based host storage, Key Vault reference for the SendGrid key, Entra ID authenticated telemetry.'

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object

@description('Name of the azd service this app hosts (azure.yaml).')
param azdServiceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account name (Functions host storage and PRM data).')
param storageAccountName string

@description('Blob service endpoint of the storage account.')
param storageBlobEndpoint string

@description('Queue service endpoint of the storage account.')
param storageQueueEndpoint string

@description('Table service endpoint of the storage account.')
param storageTableEndpoint string

@description('Blob container URL the deployment package is uploaded to.')
param deploymentContainerUrl string

@description('Application Insights connection string (not a secret: local auth is disabled).')
param applicationInsightsConnectionString string

@description('Versionless Key Vault secret URI of the SendGrid API key.')
param sendGridApiKeySecretUri string

@description('Fully qualified Service Bus namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusFullyQualifiedNamespace string

@description('Service Bus topic for PrmFunctions events.')
param serviceBusTopicName string

@description('Durable Task Scheduler endpoint; empty when the Azure Storage backend is used.')
param durableTaskSchedulerEndpoint string

@description('Entra ID settings the API validates tokens against.')
param azureAd {
  instance: string
  tenantId: string
  clientId: string
  audience: string
}

@description('PRM program settings (section Prm).')
param program {
  portalBaseUrl: string
  portalOrigin: string
  programCurrency: string
  membershipCacheSeconds: int
}

@description('Prefix of every PRM table name.')
param storageTablePrefix string

@description('SendGrid sender address and display name.')
param sendGridSender {
  fromEmail: string
  fromName: string
}

@description('Maximum number of instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityResourceId
    // Only what the Flex Consumption plan supports: ftpsState (no FTP on Flex; rejected with error 51021 in newer regions),
    // http20Enabled and scmMinTlsVersion are not in its list and not in Microsoft's Flex reference templates.
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: empty(program.portalOrigin) ? [] : [program.portalOrigin]
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Microsoft's guidance for Durable Functions on Flex Consumption: one always-ready instance for the durable group, so
        // orchestrations and activities start promptly after idle (host.json polls the task hub queues at most every 10 s).
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: 1
          }
        ]
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// Separate resource because Prm__ApiBaseUrl needs the app's own host name.
// Not set here on purpose: FUNCTIONS_WORKER_RUNTIME (functionAppConfig.runtime on Flex Consumption),
// AzureWebJobsStorage (replaced by the identity-based AzureWebJobsStorage__* settings) and the
// local-development-only Storage__ConnectionString and SendGrid__Host.
resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // Functions host storage (leases, queues, Durable Functions on the Azure Storage backend), by identity.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // Empty with the Azure Storage backend; read by host.json's azureManaged provider with the DTS backend.
    DURABLE_TASK_SCHEDULER_CONNECTION_STRING: empty(durableTaskSchedulerEndpoint)
      ? ''
      : 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
    AzureAd__Instance: azureAd.instance
    AzureAd__TenantId: azureAd.tenantId
    AzureAd__ClientId: azureAd.clientId
    AzureAd__Audience: azureAd.audience
    Storage__TableServiceUri: storageTableEndpoint
    Storage__BlobServiceUri: storageBlobEndpoint
    // The outbox queue (same account as AzureWebJobsStorage: the OutboxDeliver queue trigger reads it through AzureWebJobsStorage__queueServiceUri).
    Storage__QueueServiceUri: storageQueueEndpoint
    Storage__ManagedIdentityClientId: identityClientId
    Storage__TablePrefix: storageTablePrefix
    ServiceBus__FullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
    ServiceBus__TopicName: serviceBusTopicName
    SendGrid__ApiKey: '@Microsoft.KeyVault(SecretUri=${sendGridApiKeySecretUri})'
    SendGrid__FromEmail: sendGridSender.fromEmail
    SendGrid__FromName: sendGridSender.fromName
    Delivery__Disabled: 'false'
    // The Functions front end appends the client's address to X-Forwarded-For: trust exactly that one entry.
    Http__TrustedProxyHops: '1'
    Prm__PortalBaseUrl: program.portalBaseUrl
    Prm__ApiBaseUrl: 'https://${app.properties.defaultHostName}/api'
    Prm__ProgramCurrency: program.programCurrency
    Prm__MembershipCacheSeconds: string(program.membershipCacheSeconds)
    Prm__SettingsCacheSeconds: '30'
    // Operational settings (the defaults of the code, spelled out so operators can tune them): the outbox dispatcher, the invitation
    // reminder, the agreement document seeded at start and the application form's abuse limits. Program rules and deadlines of
    // onboarding, deals and MDF are not app settings: their defaults live in code and admins change them with the settings API.
    // No in-process sweep (0): an idle app makes no storage calls of its own beyond the OutboxSweep timer, so it can scale to zero;
    // commits are delivered at once by the instance that made them, and the timer retries failures.
    Outbox__SweepSeconds: '0'
    // Commits that touch a workflow enqueue a message here; the OutboxDeliver queue function delivers it with its own Durable client.
    Outbox__QueueName: 'prm-outbox'
    // The OutboxSweep timer (safety net, carries a Durable client too): every 5 minutes, so the app can scale to zero.
    Outbox__SweepSchedule: '0 */5 * * * *'
    Outbox__PointerGraceSeconds: '60'
    Outbox__InProcessGraceSeconds: '5'
    // A sweep leaves what still waits on a moving delivery lane of its own instance to that lane (a bulk import's backlog) this long.
    Outbox__QueuedGraceSeconds: '300'
    Outbox__LaneStallSeconds: '30'
    Outbox__MaxAttempts: '10'
    // Webhook retries that came due: the WebhookSweep timer looks every minute (first attempts go out at once from the instance that
    // fanned the event out). Loopback targets are refused outside Development whatever this says.
    Webhooks__SweepSchedule: '0 * * * * *'
    Webhooks__SweepSeconds: '0'
    Webhooks__TimeoutSeconds: '10'
    Webhooks__DisableAfterFailures: '50'
    Workflows__InvitationReminderAfter: '3.00:00:00'
    Agreement__CurrentVersion: '2026-01'
    Onboarding__MaxPerEmailPerHour: '3'
    Onboarding__MaxPerIpPerHour: '20'
  }
}

// Deployments authenticate with Entra ID (azd, az); publishing passwords stay off. Only scm: Flex Consumption has no FTP.
resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  // The type does not declare location, but the resource manager has refused this resource without one (error 51008,
  // Azure/bicep-types-az#1317 and #1529); the location of the site is what it expects.
  #disable-next-line BCP187
  location: location
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output appUrl string = 'https://${app.properties.defaultHostName}'
output apiBaseUrl string = 'https://${app.properties.defaultHostName}/api'
