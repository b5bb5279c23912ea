"""Opening a notebook instance, which moto does not implement.

* ``CreatePresignedNotebookInstanceUrl`` (API_CreatePresignedNotebookInstanceUrl.html): the URL
  that opens a notebook instance's Jupyter in the browser; the hand-out's first step, and the
  participant role's reason to exist in a Workshop Studio event. The emulator runs no notebook
  instance (the labs run as kernels with the notebook's role), so it answers for a notebook
  instance the deployed templates declare, and refuses any other name as SageMaker does.
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedNotebookInstanceUrl.html
"""

from __future__ import annotations

from workshopctl.emulator.server import Reply, ServiceError
from workshopctl.emulator.wire import Call

# SageMaker's range for SessionExpirationDurationInSeconds (the API reference above).
SESSION_SECONDS = (1800, 43200)


def install(account) -> None:
    def create_presigned_notebook_instance_url(call: Call, forward) -> Reply:
        name = call.params.get("NotebookInstanceName", "")
        if account.assembly.find("AWS::SageMaker::NotebookInstance", name) is None:
            raise ServiceError("ValidationException", f"RecordNotFound: notebook instance {name}")
        seconds = int(call.params.get("SessionExpirationDurationInSeconds", SESSION_SECONDS[1]))
        if not SESSION_SECONDS[0] <= seconds <= SESSION_SECONDS[1]:
            raise ServiceError(
                "ValidationException",
                f"SessionExpirationDurationInSeconds {seconds} is outside {SESSION_SECONDS}",
            )
        region = call.region or account.assembly.region
        url = (
            f"https://{name}.notebook.{region}.sagemaker.aws?authToken=emulated"
            f"&expires-in={seconds}"
        )
        return Reply.of_json({"AuthorizedUrl": url})

    account.execute(
        "sagemaker", "CreatePresignedNotebookInstanceUrl", create_presigned_notebook_instance_url
    )
