#!/bin/bash
# The start of every host document (activate_cluster.sh, set_kmsuser_password.sh are
# appended to it): cloudhsm-cli pointed at an ACTIVE HSM, the cluster's trust anchor
# installed, both passwords read from Secrets Manager into memory (never on a command
# line, never echoed). cloudhsm-cli runs in single command mode, the mode AWS documents
# for scripts: the admin's credentials go in CLOUDHSM_ROLE/CLOUDHSM_PIN for one command
# only (as_admin). cloudhsm-cli reports failures as JSON "error_code" (succeeded).
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
