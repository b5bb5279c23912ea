"""The workshop janitor (Lambda function and library): see ``janitor.janitor``.

Packaged as the ``janitor`` package (asset root ``lambdas/``): handlers
``janitor.handler.handler`` (scheduled run) and ``janitor.handler.on_event`` (custom resource).
"""
