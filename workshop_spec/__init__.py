"""What the workshop is, as data: the typed config, the datasets and named queries, the platform
matrix, the janitor's settings.

Both sides read it: the stacks (what to deploy) and the operator tooling in ``workshopctl``
(what to check, run and clean up). Pure Python with pydantic and yaml: no CDK, no boto3, and no
import of any other package of this project (``tests/test_import_direction.py`` holds it to that).
"""
