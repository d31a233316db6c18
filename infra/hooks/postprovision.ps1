# azd postprovision hook: prints what an admin needs after `azd provision` / `azd up`.
# azd passes the environment's values (the Bicep outputs among them) as environment variables.
$ErrorActionPreference = 'Stop'

function Get-Value([string] $Name) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ([string]::IsNullOrEmpty($value)) { return '?' }
    return $value
}

Write-Host ''
Write-Host 'ITSM Functions: infrastructure is provisioned.'
Write-Host ''
Write-Host "  Resource group           : $(Get-Value 'AZURE_RESOURCE_GROUP')"
Write-Host "  Function app             : $(Get-Value 'AZURE_FUNCTION_APP_NAME')"
Write-Host "  Function app URL         : $(Get-Value 'AZURE_FUNCTION_URI')"
Write-Host "  Managed identity         : $(Get-Value 'AZURE_USER_ASSIGNED_IDENTITY_NAME')"
Write-Host "    client id              : $(Get-Value 'AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID')"
Write-Host "    principal (object) id  : $(Get-Value 'AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID')"
Write-Host "  Cosmos DB endpoint       : $(Get-Value 'AZURE_COSMOS_ENDPOINT')"
Write-Host "  Service Bus namespace    : $(Get-Value 'AZURE_SERVICEBUS_NAMESPACE')"
Write-Host "  Key Vault                : $(Get-Value 'AZURE_KEY_VAULT_NAME')"
Write-Host "  API audience             : $(Get-Value 'ITSM_API_AUDIENCE')"
# The approval-link signing key (Itsm__Approvals__LinkKey is a Key Vault reference to it): created once, never rotated.
$vault = Get-Value 'AZURE_KEY_VAULT_NAME'
if ($vault -and $vault -ne '?' -and (Get-Command az -ErrorAction SilentlyContinue)) {
    az keyvault secret show --vault-name $vault --name approval-link-key --output none 2>$null
    if ($LASTEXITCODE -eq 0) {
        Write-Host '  Approval link key        : present in Key Vault'
    } else {
        $bytes = [byte[]]::new(32)
        [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
        az keyvault secret set --vault-name $vault --name approval-link-key --value ([Convert]::ToBase64String($bytes)) --output none
        if ($LASTEXITCODE -eq 0) { Write-Host '  Approval link key        : created in Key Vault' }
        else { Write-Warning 'Approval link key NOT created (needs Key Vault Secrets Officer); see docs/deploy.md' }
    }
}

Write-Host ''
Write-Host 'Next (once per environment, needs an Entra admin and an Exchange admin):'
Write-Host '  grant the managed identity its Microsoft Graph permissions'
Write-Host '  (Mail.Send and Mail.Read scoped to the service mailboxes, TeamsActivity.Send;'
Write-Host '  User.Read.All / GroupMember.Read.All only with ITSM_GRAPH_DIRECTORY_MANAGERS / _GROUPS on).'
Write-Host '  Step by step: docs/deploy.md, section "Grant Microsoft Graph permissions".'
Write-Host ''
