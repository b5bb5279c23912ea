"""An AWS API emulator on localhost, deployed from the cloud assembly (``cdk.out``).

The local target rehearses the workshop against it: the labs, the Lambdas and the jobs run
their AWS code path unchanged, with the standard endpoint settings pointing here.

* :mod:`.wire` reads a request off the wire (service, operation, parameters, caller);
* :mod:`.gate` decides it with the synthesized IAM policies;
* :mod:`.server` routes it to an executor or to moto, and :mod:`.call_log` records it;
* :mod:`.account` is one emulated account serving on a loopback port;
* :mod:`.deploy` provisions the assembly's resources into it;
* :mod:`.executors` compute what moto only stores (Athena queries, SageMaker jobs, endpoints,
  pipelines, Glue job runs, Comprehend).
"""
