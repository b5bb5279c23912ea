"""The model-image build as a CloudFormation custom resource.

Handler ``image_build.handler.handler`` (asset root ``lambdas/``, ``cfn_response`` beside it).
"""
