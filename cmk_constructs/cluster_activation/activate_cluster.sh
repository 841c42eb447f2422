# Appended to host_session.sh; runs on the CloudHSM client host through SSM Run
# Command (document parameters in {{ }}). Activates the cluster and creates the crypto
# user 'kmsuser' for the KMS custom key store. New passwords are answered on standard
# input; every step checks cloudhsm-cli's "error_code". Re-running is safe: an
# activated cluster or an existing kmsuser is left as it is.
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
