"""Application Auto Scaling stays moto's; this keeps what moto 5.2 drops and IAM needs.

RegisterScalableTarget's ``Tags`` are what the workshop's attendee policy tests later: an
attendee may put a scaling policy on (and deregister) only a target tagged with their name
(``aws:ResourceTag/attendee``). moto registers the target but forgets its tags, so the gate
would see none; the executor hands the request to moto, then keeps the tags on its target
(https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html:
"Tags: Assigns one or more tags to the scalable target"). Nothing is scaled: one machine has
no instances to add, so policies are recorded and described, not enforced.
"""

from __future__ import annotations

from workshopctl.emulator import moto_state


def install(account) -> None:
    assembly = account.assembly

    def register_scalable_target(call, forward):
        reply = forward(call)
        tags = call.params.get("Tags")
        if reply.status == 200 and isinstance(tags, dict) and tags:
            moto_state.tag_scalable_target(
                assembly.account,
                assembly.region,
                call.params["ResourceId"],
                call.params["ScalableDimension"],
                tags,
            )
        return reply

    account.execute("application-autoscaling", "RegisterScalableTarget", register_scalable_target)
