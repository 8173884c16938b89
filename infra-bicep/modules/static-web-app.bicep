// The reference partner portal (functions/Prm.Portal): a Static Web App on the Free plan; azd deploys the built dist/ (service `web`).

@description('Name of the Static Web App.')
param name string

@description('Region of the Static Web App (the service runs in a few regions only; its content is served globally).')
param location string

param tags object

resource site 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'web' })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output name string = site.name
@description('The portal\'s public base URL, e.g. https://nice-sea-0123.azurestaticapps.net.')
output url string = 'https://${site.properties.defaultHostname}'
