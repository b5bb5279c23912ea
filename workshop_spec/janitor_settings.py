"""What the janitor of this workshop keeps and where it looks, from the config.

Two readers: the guardrails stack writes it into the janitor function's environment, and
``workshopctl janitor`` builds the same scope for a run from the operator's shell. The function
reads the environment back with ``lambdas/janitor/handler.py``'s ``scope_from_environment``.
"""

from __future__ import annotations

from collections.abc import Iterable

from workshop_spec.config import WorkshopConfig
from workshop_spec.datasets import CSV_DATASETS, NAMED_QUERIES


def stack_query_names() -> frozenset[str]:
    """The data-lake stack's named queries: the janitor keeps them."""
    return frozenset(query.name for query in NAMED_QUERIES)


def stack_table_names() -> frozenset[str]:
    """The data-lake stack's Glue tables: the janitor keeps them."""
    return frozenset(dataset.table for dataset in CSV_DATASETS)


def lambda_environment(config: WorkshopConfig, bucket_names: Iterable[str]) -> dict[str, str]:
    """The janitor function's environment (see ``lambdas/janitor/handler.py``) for this config."""
    return {
        "WORKSHOP_PREFIX": config.prefix,
        "WORKSHOP_BUCKETS": ",".join(bucket_names),
        "WORKSHOP_DATABASE": config.glue_database_name,
        "WORKSHOP_WORKGROUP": config.athena_workgroup_name,
        "STACK_QUERY_NAMES": ",".join(sorted(stack_query_names())),
        "STACK_TABLE_NAMES": ",".join(sorted(stack_table_names())),
        "WHOLE_ACCOUNT": "false",
    }
