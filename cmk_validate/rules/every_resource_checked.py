"""CKE113: every part of a template is read by the rules; what only deploy time expands is reported."""

from __future__ import annotations

from cmk_validate.rules import Rule


class EveryResourceChecked(Rule):
    id = "CKE113"
    title = "Every resource is seen by the rules"
    rationale = ("A gate that skips what it cannot read passes it. A macro transform, AWS::Include, a SAM "
                 "resource, an inline Fn::Transform, a Fn::ForEach loop over a collection only deploy time "
                 "knows, or a nested stack whose template is missing all deploy resources the rules never see, "
                 "so each is a finding (fail closed). AWS::LanguageExtensions loops over known collections are "
                 "expanded as CloudFormation expands them (with cfn-lint's implementation) and checked.")
    fix = ("Validate the processed template instead (CloudFormation's GetTemplate with TemplateStage=Processed, "
           "or `sam build` output), give Fn::ForEach a literal list or a mapping, keep nested stack templates "
           "in the assembly, or acknowledge the finding with a reason.")
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-reference.html"
    tags = ("template",)

    def check(self, ctx):
        for stack in ctx.stacks:
            for path, reason in stack.unchecked:
                yield self.finding(stack, path, f"not checked: {reason}", undecided=True)
