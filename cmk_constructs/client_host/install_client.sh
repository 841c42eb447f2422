#!/bin/bash
# User data of the CloudHSM client host: install cloudhsm-cli from the configured
# S3 location (reached through the S3 gateway endpoint, the host has no internet).
# Activation and configuration against the HSMs happen later, through SSM Run Command.
set -euo pipefail
package_uri="__CLIENT_PACKAGE_URI__"
region="__REGION__"
work_dir="$(mktemp -d)"
aws s3 cp --region "$region" "$package_uri" "$work_dir/cloudhsm-cli.rpm"
dnf install -y "$work_dir/cloudhsm-cli.rpm"
rm -rf "$work_dir"
