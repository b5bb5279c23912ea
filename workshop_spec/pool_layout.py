"""Where ``accounts: per-attendee`` keeps things in the organiser's pool bucket, and the names
the organiser's stacks and ``workshopctl pool`` share (neither imports the other).

Everything one publish uploads sits under ``pool/<release>/``: ``templates/<stack>.template.json``
(each StackSet's TemplateURL) and ``assets/<key>`` (the templates' ``AssetsBucketPrefix``).
"""

from __future__ import annotations

POOL_KEY_PREFIX = "pool/"
# The organiser stack's output naming its bucket, and the pool stack's release parameter.
BUCKET_OUTPUT = "PoolAssetsBucketName"
RELEASE_PARAMETER = "Release"


def release_prefix(release: str) -> str:
    return f"{POOL_KEY_PREFIX}{release}/"


def template_key(release: str, stack_name: str) -> str:
    """The bucket key of a pool account stack's template."""
    return f"{release_prefix(release)}templates/{stack_name}.template.json"


def assets_prefix(release: str) -> str:
    """The key prefix every pool account template reads its assets from (ends with '/')."""
    return f"{release_prefix(release)}assets/"
