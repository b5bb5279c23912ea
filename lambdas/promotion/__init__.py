"""Promotion of an approved model to the A/B endpoint's challenger (Lambda function and library).

Packaged as the ``promotion`` package (asset root ``lambdas/``): handler
``promotion.handler.handler``, triggered by an EventBridge rule on "SageMaker Model Package
State Change". The decisions live in ``promotion.promotion`` (no AWS calls).
"""
