#!/bin/bash
# Runs on the CloudHSM client host through SSM Run Command (document parameters in
# {{ }}). Activates the cluster and creates the crypto user 'kmsuser' for the KMS
# custom key store.
#
# cloudhsm-cli runs in single command mode, the mode AWS documents for scripts:
# the admin's credentials go in CLOUDHSM_ROLE/CLOUDHSM_PIN for one command only,
# new passwords are answered on standard input. Passwords are read from Secrets
# Manager into memory: never on a command line, never echoed. cloudhsm-cli reports
# failures as JSON "error_code", so every step checks it. Re-running is safe: an
# activated cluster or an existing kmsuser is left as it is.
set -euo pipefail
set +x
region="{{ Region }}"
cluster_id="{{ ClusterId }}"
cli=/opt/cloudhsm/bin/cloudhsm-cli
/opt/cloudhsm/bin/configure-cli -a "{{ HsmIp }}"
aws ssm get-parameter --region "$region" --name "{{ TrustAnchorParameterName }}" --query Parameter.Value --output text > /opt/cloudhsm/etc/customerCA.crt
admin_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ AdminPasswordSecretArn }}" --query SecretString --output text)"
kmsuser_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ KmsUserPasswordSecretArn }}" --query SecretString --output text)"
succeeded() { grep -q '"error_code": 0' <<<"$1"; }
as_admin() { CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:${admin_password}" "$cli" "$@" 2>&1; }
if users="$(as_admin user list)" && succeeded "$users"; then
  echo "cluster $cluster_id: already activated"
else
  echo "cluster $cluster_id: activating"
  output="$(printf '%s\n%s\n' "$admin_password" "$admin_password" | "$cli" cluster activate 2>&1)" || true
  succeeded "$output" || { echo "cluster activate failed: $output" >&2; exit 1; }
  users="$(as_admin user list)"
fi
if grep -q '"username": "kmsuser"' <<<"$users"; then
  echo "cluster $cluster_id: crypto user kmsuser already exists"
else
  echo "cluster $cluster_id: creating crypto user kmsuser"
  output="$(printf '%s\n%s\n' "$kmsuser_password" "$kmsuser_password" | as_admin user create --username kmsuser --role crypto-user)" || true
  succeeded "$output" || { echo "user create kmsuser failed: $output" >&2; exit 1; }
fi
unset admin_password kmsuser_password
echo "cluster $cluster_id: activated, kmsuser created"
