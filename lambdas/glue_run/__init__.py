"""A Glue job run as a CloudFormation custom resource: the deploy runs the job and waits for it.

Packaged as the ``glue_run`` package (asset root ``lambdas/``, with ``cfn_response`` beside it):
handler ``glue_run.handler.handler``. The decisions are plain functions of ``glue_run.handler``.
"""
