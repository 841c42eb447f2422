"""Reusable constructs of the customer-controlled-keys reference app.

Named `cmk_constructs`, not `constructs`: a top-level package called `constructs`
would shadow the `constructs` library that aws-cdk-lib itself imports.
"""
