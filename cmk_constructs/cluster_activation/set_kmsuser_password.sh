# Appended to host_session.sh. Sent by the custom key store before it connects a new
# or re-keyed store. KMS rotates kmsuser's password each time it connects a store, to
# a value only KMS knows, so the KmsUserPassword secret is stale after the first
# connection. The store's handler has this script set kmsuser's password back to the
# secret's value (as the cluster admin), then tells KMS that password and connects;
# KMS rotates it again. kmsuser must not be logged in: the handler runs it only while
# no store is connected to the cluster. The new password is answered on standard input.
output="$(printf '%s\n%s\n' "$kmsuser_password" "$kmsuser_password" | as_admin user change-password --username kmsuser --role crypto-user)" || true
unset admin_password kmsuser_password
succeeded "$output" || { echo "user change-password kmsuser failed: $output" >&2; exit 1; }
echo "cluster $cluster_id: kmsuser password set from its secret"
