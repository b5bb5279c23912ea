"""The model registry operations moto leaves out or gets wrong, with SageMaker's semantics.

* ``DeleteModelPackage`` (API_DeleteModelPackage.html): the package, named by ARN (a versioned
  package) or by name, is gone; a package that does not exist is a ``ValidationException``.
  moto does not implement it; the janitor and the labs' clean-up call it.
* ``ListTags`` (API_ListTags.html) on a versioned package's ARN (``model-package/<group>/<n>``):
  moto cannot parse an ARN with two slashes; the tags are read from moto's state instead.
"""

from __future__ import annotations

from workshopctl.emulator import moto_state
from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call

VERSIONED_PACKAGE = ":model-package/"


def install(account) -> None:
    region, owner = account.assembly.region, account.assembly.account

    def delete_model_package(call: Call, forward) -> Reply:
        name = call.params["ModelPackageName"]
        if not moto_state.delete_model_package(name, owner, call.region or region):
            raise ServiceError("ValidationException", f"Model Package {name} does not exist.")
        return Reply.of_json({})

    def list_tags(call: Call, forward) -> Reply:
        arn = call.params.get("ResourceArn", "")
        if VERSIONED_PACKAGE in arn and arn.count("/") >= 2:
            tags = moto_state.model_package_tags(arn, owner, call.region or region)
            if tags is None:
                raise ServiceError("ValidationException", f"Resource {arn} does not exist.")
            return Reply.of_json({"Tags": tags})
        return forward(call)

    account.execute("sagemaker", "DeleteModelPackage", delete_model_package)
    account.execute("sagemaker", "ListTags", list_tags)
