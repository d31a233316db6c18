// Key Vault with Azure RBAC (no access policies). Holds the few secrets the app cannot avoid
// (for example a Teams incoming-webhook URL, added by a later issue). The app identity reads
// them as Key Vault Secrets User (rbac.bicep).

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Purge protection; cannot be turned off again once on.')
param enablePurgeProtection bool = true

@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

module vault 'br/public:avm/res/key-vault/vault:0.14.0' = {
  name: 'keyvault'
  params: {
    name: name
    location: location
    tags: tags
    sku: 'standard'
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection
    enableVaultForDeployment: false
    enableVaultForTemplateDeployment: false
    enableVaultForDiskEncryption: false
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.outputs.name
output resourceId string = vault.outputs.resourceId
output uri string = vault.outputs.uri
