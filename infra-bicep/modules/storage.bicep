metadata description = 'Storage account for PRM data (tables), documents (blobs), the Functions host (queues, leases) and the Flex Consumption deployment package. Shared keys are off: every client authenticates with Entra ID.'

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Blob container that receives the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Browser origin of the partner portal (https://host), allowed to PUT uploads to SAS URLs and read downloads; empty allows no browser.')
param browserOrigin string

// Documents the application stores, plus the deployment package container.
var appContainerNames = [
  'assets'
  'proofs'
  'agreements'
]

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Partners upload proofs and assets from the portal straight to write-only SAS URLs (PUT, with a preflight OPTIONS) and the
    // portal may fetch downloads; only the portal's origin, only what those calls need.
    cors: {
      corsRules: empty(browserOrigin) ? [] : [
        {
          allowedOrigins: [browserOrigin]
          allowedMethods: ['PUT', 'OPTIONS', 'GET', 'HEAD']
          allowedHeaders: ['x-ms-blob-type', 'content-type', 'x-ms-version', 'x-ms-date', 'x-ms-client-request-id']
          exposedHeaders: ['etag', 'content-length', 'content-type', 'x-ms-request-id']
          maxAgeInSeconds: 3600
        }
      ]
    }
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource appContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for containerName in appContainerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
