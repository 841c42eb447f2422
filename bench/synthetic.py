"""A synthetic template of N resources in this architecture's shape (buckets with policies, network, keys, logs)."""

from __future__ import annotations

import json


def synthetic_template(resources: int) -> dict:
    """About `resources` resources: repeating units of 9, each a small slice of the architecture."""
    out: dict = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "FlowLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}},
        "FlowLog": {"Type": "AWS::EC2::FlowLog", "Properties": {"ResourceId": {"Ref": "Vpc"}, "ResourceType": "VPC",
                                                                "TrafficType": "ALL", "LogGroupName": {"Ref": "FlowLogs"},
                                                                "DeliverLogsPermissionArn": "arn:aws:iam::111122223333:role/FlowLogs"}},
    }
    tables = []
    for unit in range(max(1, (resources - 4) // 9)):
        subnet, table = f"Subnet{unit}", f"RouteTable{unit}"
        tables.append({"Ref": table})
        bucket, policy = f"Bucket{unit}", f"BucketPolicy{unit}"
        arn = {"Fn::GetAtt": [bucket, "Arn"]}
        objects = {"Fn::Join": ["", [arn, "/*"]]}
        out.update({
            subnet: {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"},
                     "CidrBlock": f"10.0.{unit % 256}.0/24", "AvailabilityZone": {"Fn::Select": [unit % 3, {"Fn::GetAZs": ""}]}}},
            table: {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            f"Association{unit}": {"Type": "AWS::EC2::SubnetRouteTableAssociation",
                                   "Properties": {"SubnetId": {"Ref": subnet}, "RouteTableId": {"Ref": table}}},
            f"Key{unit}": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                           "Properties": {"EnableKeyRotation": True, "PendingWindowInDays": 30, "KeyPolicy": {
                               "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}]}}},
            bucket: {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
                "BucketName": f"synthetic-bucket-{unit}",
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"BucketKeyEnabled": True,
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [f"Key{unit}", "Arn"]}}}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {"DestinationBucketName": "synthetic-bucket-0"},
                "Tags": [{"Key": "unit", "Value": str(unit)}]}},
            policy: {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": bucket}, "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "DenyRequestsOutsideGatewayEndpoint", "Effect": "Deny", "Principal": {"AWS": "*"},
                     "Action": "s3:*", "Resource": [arn, objects],
                     "Condition": {"StringNotEquals": {"aws:sourceVpce": {"Ref": "Endpoint"}}}},
                    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                     "Resource": [arn, objects], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
            f"Logs{unit}": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 90}},
            f"Topic{unit}": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": "topic-${AWS::Region}-" + str(unit)}}},
            f"Queue{unit}": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 3600}},
        })
    out["Endpoint"] = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "VpcId": {"Ref": "Vpc"}, "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}, "VpcEndpointType": "Gateway",
        "RouteTableIds": tables, "PolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": "*",
                                                                   "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::synthetic-bucket-*/*"}]}}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": out}


def write(path: str, resources: int) -> int:
    template = synthetic_template(resources)
    with open(path, "w") as handle:
        json.dump(template, handle, indent=1)
    return len(template["Resources"])
