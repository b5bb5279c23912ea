"""Traffic shift between the A/B endpoint's production variants (Lambda function and library).

Packaged as the ``traffic_shift`` package (asset root ``lambdas/``): handler
``traffic_shift.handler.handler``. The request validation in ``traffic_shift.weights`` is plain
Python, so the local rehearsal (``workshopctl.local.serving_step``) shifts its router with the
very same rules.
"""
