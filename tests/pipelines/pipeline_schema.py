"""The published pipeline-definition JSON schema, with the additions the service has and the
schema predates.

The schema (``schemas/``, see its README) was published in 2025 but describes an older
definition format: it has no ``Std:Join`` in string arguments (though it defines Join),
no ``Std:JsonGet`` in conditions, no ``PropertyFiles`` on processing steps, no parameter
references in tuning resource limits, and so on, while the SDK emits all of them and the
service runs them (the SageMaker documentation's own examples use them). Each addition
below names the field it admits; everything else must match the schema as published.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import jsonschema

SCHEMA_FILE = Path(__file__).parent / "schemas" / "sagemaker-pipeline-definition.schema.json"
REF = "#/definitions/{}".format


def _ref(name: str) -> dict:
    return {"$ref": REF(name)}


def _extend(schema: dict) -> dict:
    d = schema["definitions"]
    # Functions: Std:Join of strings, numbers, Get and JsonGet, and Std:JsonGet on a property
    # file, usable wherever a string argument is (S3 URIs, the fail step's message).
    d["JsonGetFunction"] = {
        "type": "object",
        "properties": {
            "Std:JsonGet": {
                "type": "object",
                "properties": {"PropertyFile": _ref("GetFunction"), "Path": {"type": "string"}},
                "required": ["PropertyFile", "Path"],
                "additionalProperties": False,
            }
        },
        "required": ["Std:JsonGet"],
        "additionalProperties": False,
    }
    join_values = d["JoinFunction"]["properties"]["Std:Join"]
    join_values["type"] = "object"
    join_values["properties"] = {
        "On": {"type": "string"},
        "Values": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": ["string", "number"]},
                    _ref("GetFunction"),
                    _ref("JsonGetFunction"),
                ]
            },
        },
    }
    for key in ("Values", "required", "additionalProperties"):
        join_values.pop(key, None)
    join_values["required"] = ["Values"]
    join_values["additionalProperties"] = False
    d["StringArgumentValue"]["oneOf"] += [_ref("JoinFunction"), _ref("JsonGetFunction")]
    for kind in ("IntegerArgumentValue", "FloatArgumentValue"):
        d[kind]["oneOf"].append(_ref("JsonGetFunction"))

    # Processing steps declare property files (what Std:JsonGet reads) and mark their S3
    # inputs/outputs AppManaged (API default false).
    d["ProcessingStep"]["properties"]["PropertyFiles"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "PropertyFileName": {"type": "string"},
                "OutputName": {"type": "string"},
                "FilePath": {"type": "string"},
            },
            "required": ["PropertyFileName", "OutputName", "FilePath"],
            "additionalProperties": False,
        },
    }
    args = d["ProcessingArgs"]["properties"]
    args["ProcessingInputs"]["items"]["properties"]["AppManaged"] = _ref("BooleanArgumentValue")
    outputs = args["ProcessingOutputConfig"]["properties"]["Outputs"]["items"]
    outputs["properties"]["AppManaged"] = _ref("BooleanArgumentValue")

    # Tuning: parameter references in the resource limits, RandomSeed, and the newer
    # HyperParameterTuningResourceConfig in place of ResourceConfig.
    tuning = d["TuningStep"]["properties"]["Arguments"]["properties"]
    config = tuning["HyperParameterTuningJobConfig"]["properties"]
    for limit in ("MaxNumberOfTrainingJobs", "MaxParallelTrainingJobs"):
        config["ResourceLimits"]["properties"][limit] = _ref("IntegerArgumentValue")
    config["RandomSeed"] = {"type": "integer"}
    job = d["HyperParameterTrainingJobDefinition"]
    job["properties"]["HyperParameterTuningResourceConfig"] = {
        "type": "object",
        "properties": {
            "InstanceCount": _ref("IntegerArgumentValue"),
            "InstanceType": _ref("StringArgumentValue"),
            "VolumeSizeInGB": _ref("IntegerArgumentValue"),
        },
        "additionalProperties": False,
    }
    job["required"] = [r for r in job.get("required", []) if r != "ResourceConfig"]

    # Training: the profiler switch (the SDK writes {"DisableProfiler": true}).
    d["TrainingStep"]["properties"]["Arguments"]["properties"]["ProfilerConfig"] = {
        "type": "object",
        "properties": {
            "DisableProfiler": _ref("BooleanArgumentValue"),
            "S3OutputPath": _ref("StringArgumentValue"),
            "ProfilingIntervalInMilliseconds": _ref("IntegerArgumentValue"),
        },
        "additionalProperties": False,
    }

    # Models: registered with an approval status (and SDK's SkipModelValidation) and container
    # environment; created from a model URI that a step computes (a Std:Join).
    register = d["RegisterModelStep"]["properties"]["Arguments"]["properties"]
    register["ModelApprovalStatus"] = _ref("StringArgumentValue")
    register["SkipModelValidation"] = {"type": "string", "enum": ["None", "All"]}
    package_container = register["InferenceSpecification"]["properties"]["Containers"]["items"]
    package_container["properties"]["Environment"] = d["ContainerDefinition"]["properties"][
        "Environment"
    ]
    d["ContainerDefinition"]["properties"]["ModelDataUrl"] = _ref("StringArgumentValue")

    # Conditions compare property-file values; branches may create models.
    for side in ("LeftValue", "RightValue"):
        d["BinaryCondition"]["properties"][side]["anyOf"].append(_ref("JsonGetFunction"))
    branches = d["ConditionStep"]["properties"]["Arguments"]["properties"]
    for branch in ("IfSteps", "ElseSteps"):
        branches[branch]["items"]["oneOf"].append(_ref("CreateModelStep"))
    return schema


@cache
def validator() -> jsonschema.protocols.Validator:
    """A validator for the extended schema (draft 7: the schema's own keywords)."""
    schema = _extend(copy.deepcopy(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _explain(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The leaf errors of the oneOf/anyOf branch meant (the one whose ``Type`` matched)."""
    if not error.context:
        return [error]
    branches: dict[int, list] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    meant = [
        errs for errs in branches.values()
        if not any(list(e.relative_path) == ["Type"] for e in errs)
    ] or list(branches.values())  # fmt: skip
    return [leaf for sub in min(meant, key=len) for leaf in _explain(sub)]


def schema_errors(definition: dict) -> list[str]:
    """Every violation as ``path: message``, explained inside the branch that was meant."""
    return [
        f"{'/'.join(map(str, leaf.absolute_path))}: {leaf.message[:300]}"
        for error in validator().iter_errors(definition)
        for leaf in _explain(error)
    ]
