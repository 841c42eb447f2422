"""Offline deploy rehearsal: deploy the synthesised cloud assembly itself on a model of AWS.

`python -m rehearsal [CDK_OUT]` publishes each stack's assets, deploys the stacks as CloudFormation
would (rehearsal/cloudformation), runs the custom resources' handlers from their assets through
the CDK Provider framework's contract (rehearsal/lambda_runtime.py), against moto and the
project's model of what moto lacks (rehearsal/services), on a simulated clock, and prints the
timeline and the HSM-hours billed.
"""
