#!/usr/bin/env bash
# azd postprovision hook: prints what an admin needs after `azd provision` / `azd up`.
# azd passes the environment's values (the Bicep outputs among them) as environment variables.
set -eu

echo ""
echo "ITSM Functions: infrastructure is provisioned."
echo ""
echo "  Resource group           : ${AZURE_RESOURCE_GROUP:-?}"
echo "  Function app             : ${AZURE_FUNCTION_APP_NAME:-?}"
echo "  Function app URL         : ${AZURE_FUNCTION_URI:-?}"
echo "  Managed identity         : ${AZURE_USER_ASSIGNED_IDENTITY_NAME:-?}"
echo "    client id              : ${AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID:-?}"
echo "    principal (object) id  : ${AZURE_USER_ASSIGNED_IDENTITY_PRINCIPAL_ID:-?}"
echo "  Cosmos DB endpoint       : ${AZURE_COSMOS_ENDPOINT:-?}"
echo "  Service Bus namespace    : ${AZURE_SERVICEBUS_NAMESPACE:-?}"
echo "  Key Vault                : ${AZURE_KEY_VAULT_NAME:-?}"
echo "  API audience             : ${ITSM_API_AUDIENCE:-?}"
echo ""
echo "Next (once per environment, needs an Entra admin and an Exchange admin):"
echo "  grant the managed identity its Microsoft Graph permissions"
echo "  (Mail.Send and Mail.Read scoped to the service mailboxes, TeamsActivity.Send)."
echo "  Step by step: docs/deploy.md, section \"Grant Microsoft Graph permissions\"."
echo ""
