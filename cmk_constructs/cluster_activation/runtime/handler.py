"""Lifecycle handler: implemented by the lifecycle issue (#3); the interface is in ../infrastructure.py."""


def on_event(event, context):
    raise NotImplementedError("lifecycle handler not implemented yet (issue #3)")


def is_complete(event, context):
    raise NotImplementedError("lifecycle handler not implemented yet (issue #3)")
