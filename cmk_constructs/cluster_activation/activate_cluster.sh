#!/bin/bash
# Runs on the CloudHSM client host through SSM Run Command (document parameters in
# {{ }}). Activates the cluster and creates the crypto user 'kmsuser' for the KMS
# custom key store. Passwords are read from Secrets Manager into memory here and
# given to cloudhsm-cli on standard input: never on a command line, never echoed.
set -euo pipefail
set +x
region="{{ Region }}"
cluster_id="{{ ClusterId }}"
/opt/cloudhsm/bin/configure-cli -a "{{ HsmIp }}"
aws ssm get-parameter --region "$region" --name "{{ TrustAnchorParameterName }}" \
  --query Parameter.Value --output text > /opt/cloudhsm/etc/customerCA.crt
admin_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ AdminPasswordSecretArn }}" --query SecretString --output text)"
kmsuser_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ KmsUserPasswordSecretArn }}" --query SecretString --output text)"
echo "cluster $cluster_id: activating"
printf '%s\n%s\n' "$admin_password" "$admin_password" | /opt/cloudhsm/bin/cloudhsm-cli cluster activate
echo "cluster $cluster_id: creating crypto user kmsuser"
printf 'login --username admin --role admin\n%s\nuser create --username kmsuser --role crypto-user\n%s\n%s\nquit\n' \
  "$admin_password" "$kmsuser_password" "$kmsuser_password" | /opt/cloudhsm/bin/cloudhsm-cli interactive
unset admin_password kmsuser_password
echo "cluster $cluster_id: activated, kmsuser created"
