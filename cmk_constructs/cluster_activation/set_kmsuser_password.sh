# Appended to host_session.sh. Sent by the custom key store before it connects a new
# or re-keyed store. KMS rotates kmsuser's password each time it connects a store, to
# a value only KMS knows, so the KmsUserPassword secret is stale after the first
# connection. The store's handler has this script set kmsuser's password back to the
# secret's value (as the cluster admin), then tells KMS that password and connects;
# KMS rotates it again. kmsuser must not be logged in: the handler runs it only while
# no store is connected to the cluster. The new password is typed at cloudhsm-cli's
# prompt on a pseudo-terminal (see host_session.sh); a reset also unlocks a locked-out kmsuser.
output="$(as_admin kmsuser_password user change-password --username kmsuser --role crypto-user)" || fail "user change-password kmsuser" "$output"
unset admin_password kmsuser_password
echo "cluster $cluster_id: kmsuser password set from its secret"
