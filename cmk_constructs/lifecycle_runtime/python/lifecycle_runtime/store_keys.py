"""The KMS keys in a custom key store, found by describing the account's keys.

Only DescribeKey says which store a key is in, so every key in the account is described. A key whose
key policy does not admit the caller (another application's key, or another environment of this app
in the same account) answers AccessDeniedException: it is skipped, not an error, because every key
this app puts in a store admits the handlers that look for it (the data key policy's administrators
and KeyStoreHandlerSeesTheKey). KMS itself still refuses to delete a store that holds keys
(CustomKeyStoreHasCMKsException), so a key hidden this way cannot be orphaned.
"""

from __future__ import annotations

from typing import Iterator

from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.structured_log import log


def keys_in_store(store_id: str) -> Iterator[dict]:
    """KeyMetadata of each key in the store that the caller may describe, pending deletion included."""
    for page in client("kms").get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            try:
                metadata = client("kms").describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            except client("kms").exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") != "AccessDeniedException":
                    raise
                log("key_not_visible", key_id=key["KeyId"], reason="its key policy does not admit this role")
                continue
            if metadata.get("CustomKeyStoreId") == store_id:
                yield metadata
