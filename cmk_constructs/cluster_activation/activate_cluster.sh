# Appended to host_session.sh; runs on the CloudHSM client host through SSM Run Command (document
# parameters in {{ }}). Activates the cluster and creates the crypto user kmsuser for the KMS custom
# key store; every step checks cloudhsm-cli's "error_code". Re-running is safe: an activated cluster
# is left as it is once the admin secret's password logs in, and an existing kmsuser once it is a
# crypto user. Before activation `user list` (no login needed) shows the admin as unactivated-admin
# (CloudHSM User Guide, "Activate the cluster").
users="$(cloudhsm - user list)" || fail "user list" "$users"
if grep -q '"username": "admin", "role": "unactivated-admin"' <<<"$users"; then
  echo "cluster $cluster_id: activating"
  output="$(cloudhsm admin_password cluster activate)" || fail "cluster activate" "$output"
else
  output="$(cloudhsm admin_password login --username admin --role admin)" || fail "admin login on the activated cluster" "$output"
  echo "cluster $cluster_id: already activated"
fi
if grep -q '"username": "kmsuser", "role": "crypto-user"' <<<"$users"; then
  echo "cluster $cluster_id: crypto user kmsuser already exists"
elif grep -q '"username": "kmsuser"' <<<"$users"; then
  fail "user create kmsuser" "kmsuser exists with another role than crypto-user"
else
  echo "cluster $cluster_id: creating crypto user kmsuser"
  output="$(as_admin kmsuser_password user create --username kmsuser --role crypto-user)" || fail "user create kmsuser" "$output"
fi
unset admin_password kmsuser_password
echo "cluster $cluster_id: activated, kmsuser created"
