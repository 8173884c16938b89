metadata description = 'PrmFunctions: the whole Azure deployment (resource group, identity, storage, Flex Consumption Function App, Service Bus, Key Vault, monitoring, optional Durable Task Scheduler). Deployed by `azd up`.'

targetScope = 'subscription'

// ---- Environment (azd fills these) ----

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; part of every resource name and the azd-env-name tag.')
param environmentName string

// The regions of the Flex Consumption plan (the one place this list lives; azd offers only these). The Durable Task Scheduler
// backend is available in fewer regions: check its list in the Azure docs before choosing it.
@minLength(1)
@description('Azure region for every resource: one where the Flex Consumption plan is available.')
@allowed([
  'australiaeast'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'northcentralus'
  'northeurope'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'uksouth'
  'westcentralus'
  'westeurope'
  'westus2'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying principal (azd: the signed-in user); when set, it gets the same data access as the app (blob, queue, table, Service Bus, Key Vault secrets). Empty grants nothing.')
param principalId string = ''

@description('Kind of principalId: User for a person running azd, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

// ---- Entra ID (see README.md, "Deploy to Azure") ----

@description('Application (client) id of the API app registration. Empty until the registration exists; the API then rejects every token.')
param apiClientId string = ''

@description('Directory (tenant) id of the API app registration; empty = the tenant of the deployment.')
param tenantId string = ''

@description('Token audience the API accepts; empty = api://<apiClientId>.')
param apiAudience string = ''

// ---- Application ----

@description('Public base URL of the partner portal SPA (emailed links, CORS). Empty = the reference portal\'s Static Web App deployed here.')
param portalBaseUrl string = ''

@description('Region of the reference portal\'s Static Web App (offered in a few regions only).')
@allowed([
  'westeurope'
  'eastus2'
  'centralus'
  'westus2'
  'eastasia'
])
param portalLocation string = 'westeurope'

@description('Currency budgets and thresholds are expressed in when a request names none.')
param programCurrency string = 'EUR'

@description('How long a resolved caller membership is cached, in seconds (0 disables the cache).')
@minValue(0)
param membershipCacheSeconds int = 30

@description('Prefix of every PRM table name.')
param storageTablePrefix string = 'prm'

@description('Sender address of outgoing email.')
param sendGridFromEmail string = 'partners@prm.example'

@description('Sender display name of outgoing email.')
param sendGridFromName string = 'Partner Program'

@secure()
@description('SendGrid API key, stored in Key Vault as SendGrid-ApiKey. Empty leaves the secret untouched (set it later with az keyvault secret set).')
param sendGridApiKey string = ''

// ---- Platform choices ----

@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
@description('Durable Functions backend: AzureStorage (queues and tables in the app storage account) or DurableTaskScheduler (managed service; needs the host.json change described in README.md, "Durable Functions backend").')
param durableBackend string = 'AzureStorage'

@description('Maximum number of Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'prm-functions'
}
var useDurableTaskScheduler = durableBackend == 'DurableTaskScheduler'
// The portal: the URL given, or the reference portal's Static Web App. Its browser origin (scheme and host) is the CORS origin of the
// API and of the blob service (uploads to SAS URLs).
var effectivePortalBaseUrl = empty(portalBaseUrl) ? portal.outputs.url : portalBaseUrl
var portalOrigin = join(take(split(effectivePortalBaseUrl, '/'), 3), '/')
// Must equal extensions.durableTask.hubName in host.json.
var taskHubName = 'PrmTaskHub'
var effectiveTenantId = empty(tenantId) ? tenant().tenantId : tenantId
var effectiveAudience = empty(apiAudience) ? (empty(apiClientId) ? '' : 'api://${apiClientId}') : apiAudience

// Names are computed here (not taken from module outputs) so What-If can predict every resource.
var names = {
  identity: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
  storage: '${abbrs.storageStorageAccounts}${resourceToken}'
  logAnalytics: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  applicationInsights: '${abbrs.insightsComponents}${resourceToken}'
  serviceBus: '${abbrs.serviceBusNamespaces}${resourceToken}'
  keyVault: '${abbrs.keyVaultVaults}${resourceToken}'
  durableTaskScheduler: '${abbrs.durableTaskSchedulers}${resourceToken}'
  plan: '${abbrs.webServerFarms}${resourceToken}'
  functionApp: '${abbrs.webSitesFunctions}api-${resourceToken}'
  portal: '${abbrs.webStaticSites}portal-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module portal 'modules/static-web-app.bicep' = {
  name: 'portal'
  scope: rg
  params: {
    name: names.portal
    location: portalLocation
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: 'deployments'
    browserOrigin: portalOrigin
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  name: 'service-bus'
  scope: rg
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    topicName: 'prm-events'
    crmSubscriptionName: 'crm-sync'
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
    sendGridApiKey: sendGridApiKey
  }
}

module durableTaskScheduler 'modules/durable-task-scheduler.bicep' = if (useDurableTaskScheduler) {
  name: 'durable-task-scheduler'
  scope: rg
  params: {
    name: names.durableTaskScheduler
    taskHubName: taskHubName
    location: location
    tags: tags
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    appIdentityName: names.identity
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    keyVaultName: names.keyVault
    applicationInsightsName: names.applicationInsights
    useDurableTaskScheduler: useDurableTaskScheduler
    durableTaskSchedulerName: names.durableTaskScheduler
  }
  dependsOn: [
    identity
    storage
    serviceBus
    keyVault
    monitoring
    durableTaskScheduler
  ]
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    azdServiceName: 'api'
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    sendGridApiKeySecretUri: keyVault.outputs.sendGridSecretUri
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopicName: serviceBus.outputs.topicName
    durableTaskSchedulerEndpoint: useDurableTaskScheduler ? durableTaskScheduler!.outputs.endpoint : ''
    azureAd: {
      instance: environment().authentication.loginEndpoint
      tenantId: effectiveTenantId
      clientId: apiClientId
      audience: effectiveAudience
    }
    program: {
      portalBaseUrl: effectivePortalBaseUrl
      portalOrigin: portalOrigin
      programCurrency: programCurrency
      membershipCacheSeconds: membershipCacheSeconds
    }
    storageTablePrefix: storageTablePrefix
    sendGridSender: {
      fromEmail: sendGridFromEmail
      fromName: sendGridFromName
    }
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  // The host reaches storage and Key Vault as soon as it starts: grant access first.
  dependsOn: [
    roleAssignments
  ]
}

// ---- Outputs (azd stores them in the environment's .env) ----

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = effectiveTenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = functionApp.outputs.appUrl
output API_BASE_URL string = functionApp.outputs.apiBaseUrl
output PORTAL_URL string = effectivePortalBaseUrl
output AZURE_STATIC_WEB_APP_NAME string = portal.outputs.name
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICE_BUS_TOPIC_NAME string = serviceBus.outputs.topicName
output SERVICE_BUS_CRM_SUBSCRIPTION_NAME string = serviceBus.outputs.crmSubscriptionName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.vaultUri
output DURABLE_BACKEND string = durableBackend
output DURABLE_TASK_SCHEDULER_ENDPOINT string = useDurableTaskScheduler ? durableTaskScheduler!.outputs.endpoint : ''
// What a SPA needs for MSAL (see README.md, "Pointing a SPA at the API").
output AZURE_AD_CLIENT_ID string = apiClientId
output AZURE_AD_TENANT_ID string = effectiveTenantId
output AZURE_AD_AUTHORITY string = '${environment().authentication.loginEndpoint}${effectiveTenantId}'
output AZURE_AD_API_SCOPE string = empty(effectiveAudience) ? '' : '${effectiveAudience}/access_as_user'
