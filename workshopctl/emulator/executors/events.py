"""EventBridge in the emulated account: the events SageMaker emits reach the rules the stacks
deploy, and the rules' Lambda targets run.

moto stores the rules and their targets (the deploy puts them there from the templates) but
delivers nothing to a function that only runs here. This module is the default event bus:

* **Sources.** SageMaker's "SageMaker Model Package State Change" event, emitted when a
  package is created in a group and whenever it is updated (its approval status above all),
  shaped as the SageMaker developer guide shows it ("Automating SageMaker AI with Amazon
  EventBridge": ``source`` ``aws.sagemaker``, the package's ARN in ``resources``, its
  description in ``detail``). Pipelines' and jobs' state-change events are not emitted.
* **Matching.** Every ENABLED rule of the default bus whose event pattern matches the event
  (EventBridge's content filtering, as moto implements it: exact values, prefixes,
  anything-but, numeric ranges, exists).
* **Delivery to a Lambda function**, asynchronously, as the function's own role, only when the
  function's resource-based policy lets ``events.amazonaws.com`` invoke it from that rule
  (``aws:SourceArn``: the ``AWS::Lambda::Permission`` a rule target needs, EventBridge user
  guide "Using resource-based policies for Amazon EventBridge"). An event that cannot be
  delivered goes to the target's dead-letter queue when the queue's policy lets EventBridge
  send to it ("Using dead-letter queues to process undelivered events"). A function that
  fails is retried twice, as Lambda retries asynchronous invocations by default ("Error
  handling and automatic retries in Lambda"); AWS waits about one then two minutes between
  attempts, the emulator :data:`RETRY_DELAYS`.

Every delivery is recorded (:class:`Delivery`) for the rehearsal's checks; :meth:`EventBus.idle`
waits until the deliveries in flight have ended. Not emulated: PutEvents from callers (moto
answers it, and runs no function), custom buses, schedules, input transformers, archives.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workshopctl.emulator.moto_state import event_pattern_matches, never_reused_version
from workshopctl.emulator.server import Reply
from workshopctl.emulator.wire import Call

logger = logging.getLogger(__name__)

EVENTS_PRINCIPAL = "events.amazonaws.com"
RETRY_DELAYS = (1.0, 2.0)  # Lambda's two asynchronous retries; AWS waits ~1 and ~2 minutes
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


@dataclass
class Delivery:
    """One event delivered (or not) to one target of one rule."""

    rule: str
    target: str
    detail_type: str
    resources: list[str]
    status: str = "InProgress"  # Delivered | Failed | NotDelivered
    attempts: int = 0
    result: Any = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


class EventBus:
    """The default event bus of one emulated account."""

    def __init__(self, account):
        self.account = account
        self.assembly = account.assembly
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    # -- sources ------------------------------------------------------------------------------
    def install(self) -> EventBus:
        self.account.execute("sagemaker", "CreateModelPackage", self._model_package_changed)
        self.account.execute("sagemaker", "UpdateModelPackage", self._model_package_changed)
        return self

    def _model_package_changed(self, call: Call, forward) -> Reply:
        reply = forward(call)
        if reply.status == 200:
            arn = reply.json().get("ModelPackageArn") or call.params.get("ModelPackageArn")
            if arn and call.operation == "CreateModelPackage":
                account, region = self.assembly.account, call.region or self.assembly.region
                registered = never_reused_version(arn, account, region)
                if registered != arn:
                    arn, reply = registered, Reply.of_json({"ModelPackageArn": registered})
            if arn:
                self.emit_model_package(arn)
        return reply

    def emit_model_package(self, arn: str) -> None:
        sagemaker = self.account.client("sagemaker", label="eventbridge")
        package = sagemaker.describe_model_package(ModelPackageName=arn)
        package.pop("ResponseMetadata", None)
        if "ModelPackageGroupName" not in package:
            return  # an unversioned package is in no group: SageMaker emits nothing for it
        detail = {key: _epoch_millis(value) for key, value in package.items()}
        self.publish("aws.sagemaker", MODEL_PACKAGE_STATE_CHANGE, [arn], detail)

    # -- the bus --------------------------------------------------------------------------------
    def publish(self, source: str, detail_type: str, resources: list[str], detail: dict) -> None:
        """Put one event on the default bus: each matching rule delivers it to its targets."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.assembly.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.assembly.region,
            "resources": resources,
            "detail": detail,
        }
        events = self.account.client("events", label="eventbridge")
        rules = events.get_paginator("list_rules").paginate(EventBusName="default")
        for rule in (r for page in rules for r in page["Rules"]):
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if not event_pattern_matches(rule["EventPattern"], event):
                continue
            for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
                delivery = Delivery(rule["Arn"], target["Arn"], detail_type, resources)
                with self._lock:
                    self.deliveries.append(delivery)
                thread = threading.Thread(
                    target=self._deliver, args=(delivery, target, event), daemon=True,
                    name=f"eventbridge {rule['Name']} → {target['Arn']}",
                )  # fmt: skip
                thread.start()

    def idle(self, timeout: float = 120.0) -> list[Delivery]:
        """Wait until every delivery started so far has ended; returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self.deliveries)
        for delivery in pending:
            if not delivery.done.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"event delivery to {delivery.target} still running")
        return pending

    def _deliver(self, delivery: Delivery, target: Mapping, event: dict) -> None:
        try:
            if ":lambda:" not in delivery.target:
                delivery.status, delivery.error = "NotDelivered", "only Lambda targets run here"
                return
            allowed = self.assembly.decide(
                EVENTS_PRINCIPAL, "lambda:InvokeFunction", delivery.target,
                {"aws:SourceArn": delivery.rule},
            )  # fmt: skip
            if not allowed.allowed:
                delivery.status = "NotDelivered"
                delivery.error = (
                    f"{EVENTS_PRINCIPAL} may not invoke {delivery.target} for {delivery.rule}: "
                    f"{allowed.reason}"
                )
                self._dead_letter(delivery, target, event)
                return
            self._invoke(delivery, event)
        except Exception as error:  # an emulator defect must still end the delivery
            logger.exception("event delivery to %s", delivery.target)
            delivery.status, delivery.error = "Failed", f"{type(error).__name__}: {error}"
        finally:
            delivery.done.set()

    def _invoke(self, delivery: Delivery, event: dict) -> None:
        from workshopctl.emulator.functions import FunctionError, Functions

        name = delivery.target.rsplit(":", 1)[-1]
        functions = Functions(self.account)
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            delivery.attempts += 1
            try:
                delivery.result = functions.invoke(name, event).result
                delivery.status, delivery.error = "Delivered", ""
                return
            except FunctionError as error:
                delivery.status, delivery.error = "Failed", str(error)

    def _dead_letter(self, delivery: Delivery, target: Mapping, event: dict) -> None:
        queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue_arn:
            return
        allowed = self.assembly.decide(
            EVENTS_PRINCIPAL, "sqs:SendMessage", queue_arn, {"aws:SourceArn": delivery.rule}
        )
        if not allowed.allowed:
            delivery.error += f"; its dead-letter queue refuses EventBridge: {allowed.reason}"
            return
        sqs = self.account.client("sqs", label="eventbridge")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))


def _epoch_millis(value: Any) -> Any:
    """Timestamps in an event's detail are epoch milliseconds, as SageMaker sends them."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return value


def install(account) -> EventBus:
    bus = EventBus(account).install()
    account.event_bus = bus
    return bus
