"""The ``accounts: per-attendee`` configs the infra tests synthesize (``synth(**overrides)``)."""

from __future__ import annotations

POOL_ACCOUNTS = {"ada": "111111111111", "grace": "222222222222", "linus": "333333333333"}
# Three attendees, three named accounts: self-managed StackSets.
PER_ATTENDEE = {
    "attendees": sorted(POOL_ACCOUNTS),
    "accounts": "per-attendee",
    "pool__deployment": "named-accounts",
    "pool__accounts": POOL_ACCOUNTS,
    "budget__monthly_usd": 300,
}
# The stacks every pool account gets, in the order app.py creates (and StackSets deploy) them.
ACCOUNT_STACKS = [
    "mlws-data-lake",
    "mlws-model-image",
    "mlws-attendee-environment",
    "mlws-attendee-sign-in",
    "mlws-pipelines",
    "mlws-serving",
    "mlws-guardrails",
]
ORGANISER_STACKS = ["mlws-organiser", "mlws-pool"]
