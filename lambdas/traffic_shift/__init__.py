"""Traffic shift between the A/B endpoint's production variants (Lambda function and library).

Packaged as the ``traffic_shift`` package (asset root ``lambdas/``): handler
``traffic_shift.handler.handler``. The rehearsal runs this function as deployed (its package, role
and environment) against the emulated A/B endpoint (``workshopctl.local.deployed_checks``).
"""
