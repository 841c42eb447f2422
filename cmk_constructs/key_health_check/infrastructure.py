"""Alarms for "custom key store not CONNECTED" and "fewer than 2 active HSMs".

Neither service publishes these, so a function runs every 5 minutes, publishes
ActiveHsmCount and KeyStoreConnected (runtime/handler.py), and two alarms watch
them; missing data counts as breaching, so a silent checker alarms too.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cmk_constructs.lifecycle_provider import BYTECODE, HANDLER_ARCHITECTURE, HANDLER_RUNTIME
from cmk_constructs.log_groups import operational_log_group
from cmk_constructs.nag import acknowledge

RUNTIME = Path(__file__).with_name("runtime")
NAMESPACE = "CustomerKeys/KeyStoreHealth"
MINIMUM_ACTIVE_HSMS = 2  # KMS needs two ACTIVE HSMs in different AZs to connect a key store


class KeyStoreHealthAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_id: str,
        custom_key_store_id: str,
        key: kms.IKey,
        log_retention_days: int,
        alarm_email: str | None,
        alarm_name_prefix: str,
    ) -> None:
        """`alarm_name_prefix`: alarms get fixed names (`<prefix>-fewer-than-2-active-hsms`,
        `<prefix>-key-store-not-connected`) that runbooks and dashboards can refer to."""
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", master_key=key, enforce_ssl=True,
                               display_name="CloudHSM key store health")
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))

        log_group = operational_log_group(self, "Logs", key=key, retention_days=log_retention_days)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Key store health check: read-only describes and one metric namespace")
        # DescribeClusters, DescribeCustomKeyStores and PutMetricData have no resource-level permissions.
        role.add_to_policy(iam.PolicyStatement(actions=["cloudhsm:DescribeClusters", "kms:DescribeCustomKeyStores"], resources=["*"]))
        role.add_to_policy(iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"],
                                               conditions={"StringEquals": {"cloudwatch:namespace": NAMESPACE}}))
        log_group.grant_write(role)
        acknowledge(role, "AwsSolutions-IAM5", "cloudhsm:DescribeClusters, kms:DescribeCustomKeyStores and cloudwatch:PutMetricData support no resource ARNs; PutMetricData is pinned to one namespace by condition.", findings=["Resource::*"])
        self.function = lambda_.Function(
            self, "Check",
            runtime=HANDLER_RUNTIME,
            architecture=HANDLER_ARCHITECTURE,
            code=lambda_.Code.from_asset(str(RUNTIME), exclude=BYTECODE),
            handler="handler.handler",
            role=role,
            log_group=log_group,
            timeout=Duration.seconds(30),
            environment={"METRIC_NAMESPACE": NAMESPACE, "CLUSTER_ID": cluster_id, "CUSTOM_KEY_STORE_ID": custom_key_store_id},
        )
        acknowledge(self.function, "AwsSolutions-L1", "Pinned to python3.12 like the lifecycle handlers, the runtime the tests run against.")
        events.Rule(self, "Schedule", schedule=events.Schedule.rate(Duration.minutes(5)),
                    targets=[targets.LambdaFunction(self.function)])

        dimensions = {"ClusterId": cluster_id, "CustomKeyStoreId": custom_key_store_id}
        self.active_hsms_alarm = cloudwatch.Alarm(
            self, "FewerThanTwoActiveHsms",
            alarm_name=f"{alarm_name_prefix}-fewer-than-2-active-hsms",
            alarm_description="Fewer than 2 ACTIVE HSMs: KMS cannot use the custom key store (or the checker stopped)",
            metric=cloudwatch.Metric(namespace=NAMESPACE, metric_name="ActiveHsmCount", dimensions_map=dimensions,
                                     statistic="Minimum", period=Duration.minutes(5)),
            threshold=MINIMUM_ACTIVE_HSMS,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.disconnected_alarm = cloudwatch.Alarm(
            self, "KeyStoreNotConnected",
            alarm_name=f"{alarm_name_prefix}-key-store-not-connected",
            alarm_description="The KMS custom key store is not CONNECTED: keys in it cannot encrypt or decrypt",
            metric=cloudwatch.Metric(namespace=NAMESPACE, metric_name="KeyStoreConnected", dimensions_map=dimensions,
                                     statistic="Minimum", period=Duration.minutes(5)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (self.active_hsms_alarm, self.disconnected_alarm):
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))
