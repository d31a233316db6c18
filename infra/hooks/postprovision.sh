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
# The approval-link signing key (Itsm__Approvals__LinkKey is a Key Vault reference to it): created once, never
# rotated by a later provision, because rotating it invalidates every link already sent.
if [ -n "${AZURE_KEY_VAULT_NAME:-}" ] && command -v az >/dev/null 2>&1; then
  if az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name approval-link-key >/dev/null 2>&1; then
    echo "  Approval link key        : present in Key Vault"
  elif az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name approval-link-key \
      --value "$(openssl rand -base64 32)" --output none; then
    echo "  Approval link key        : created in Key Vault"
  else
    echo "  Approval link key        : NOT created (needs Key Vault Secrets Officer); see docs/deploy.md" >&2
  fi
fi

echo ""
echo "Next (once per environment, needs an Entra admin and an Exchange admin):"
echo "  grant the managed identity its Microsoft Graph permissions"
echo "  (Mail.Send and Mail.Read scoped to the service mailboxes, TeamsActivity.Send;"
echo "  User.Read.All / GroupMember.Read.All only with ITSM_GRAPH_DIRECTORY_MANAGERS / _GROUPS on)."
echo "  Step by step: docs/deploy.md, section \"Grant Microsoft Graph permissions\"."
echo ""
