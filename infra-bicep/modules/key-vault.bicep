metadata description = 'Key Vault (RBAC mode) for the one secret the app cannot avoid: the SendGrid API key.'

@description('Name of the vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('SendGrid API key to store. Empty leaves the secret as it is (so a redeploy never wipes a key set by hand).')
@secure()
param sendGridApiKey string = ''

var sendGridSecretName = 'SendGrid-ApiKey'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource sendGridSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(sendGridApiKey)) {
  parent: vault
  name: sendGridSecretName
  properties: {
    value: sendGridApiKey
    contentType: 'text/plain'
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output sendGridSecretName string = sendGridSecretName
// Versionless URI, so a rotated key is picked up without a redeploy. Built from the vault URI because
// the secret resource exists only when a key was supplied in this or an earlier deployment.
output sendGridSecretUri string = '${vault.properties.vaultUri}secrets/${sendGridSecretName}'
