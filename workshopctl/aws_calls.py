"""Which AWS calls a program makes through boto3, and which IAM actions those calls need.

A static reading (``ast``, nothing is imported or run) of the workshop's Lambda functions, lab
helper, notebook scripts and Glue/training code. It finds calls on boto3 clients and maps each
Python method to botocore's OperationName, then to the IAM actions of the Service Authorization
Reference. A contract checker evaluates those actions against the policies of the role each
program runs as, so a call is never guessed: when the service or the operation cannot be told
from the source, the call is returned as :class:`UnresolvedCall` (or :func:`extract_calls`
raises) and the checker can require a declaration for it.

How a client's service is found (see :func:`extract` for the details):

* ``boto3.client("svc")`` / ``session.client("svc")`` assigned to a name, a global, an attribute,
  or used in a chain (``boto3.client("s3").put_object(...)``);
* helpers that return a client: ``_client("s3")`` (a parameter flowing into ``.client(...)``),
  ``clients.get("s3")`` (the same, as a method), ``_sagemaker()`` (always the same service),
  caches ``CLIENTS["s3"]`` filled by ``CLIENTS[name] = ....client(name)``;
* function parameters: annotated (``client: S3Client``), passed a known client by every caller
  in the module, or named after the service (``sm``, ``s3``, ``sagemaker``, ``ecr_client``...);
* a client parameter of unknown service: the method name decides only when exactly one botocore
  service has it;
* dispatch helpers ``pages(client, "list_tags", ...)`` that call ``getattr(client, operation)``
  or ``client.get_paginator(operation)``: the literal at each call site is the operation;
* ``get_waiter("name")`` → the waiter's operation, ``get_paginator("list_x")`` → ListX, S3
  transfer methods (``upload_file``...) → the S3 operations they make, and boto3 resources
  (``boto3.resource("s3").Object(b, k).put()``) → the operation of the action.

Calls made by other libraries (the SageMaker Python SDK, awswrangler...) are not boto3 calls of
the program and are not found.

    python -m workshopctl.aws_calls lambdas/ labs/workshop.py
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore
import botocore.loaders
import botocore.session


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call found in a program's source."""

    service: str  # boto3 client name, e.g. "sagemaker-runtime"
    operation: str  # botocore OperationName, e.g. "InvokeEndpoint"
    method: str  # the Python name called, e.g. "invoke_endpoint" or "get_waiter('endpoint_...')"
    path: str
    line: int


@dataclass(frozen=True)
class UnresolvedCall:
    """A call on a boto3 client whose service or operation the source does not tell."""

    path: str
    line: int
    expression: str  # the source text of the call (or of the method reference)
    reason: str
    service: str = ""  # set when the client is known and only the operation is not
    candidates: tuple[str, ...] = ()  # services having that method, when several do


@dataclass(frozen=True)
class Extraction:
    calls: tuple[AwsCall, ...]
    unresolved: tuple[UnresolvedCall, ...]


class UnresolvedCallsError(ValueError):
    """Raised by :func:`extract_calls` when some calls cannot be resolved statically."""

    def __init__(self, extraction: Extraction) -> None:
        self.extraction = extraction
        self.unresolved = extraction.unresolved
        listing = "\n".join(
            f"  {u.path}:{u.line}: {u.expression} ({u.reason})" for u in self.unresolved
        )
        super().__init__(f"{len(self.unresolved)} AWS call(s) cannot be resolved:\n{listing}")


# -- botocore's models ----------------------------------------------------------------------------
@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def _services() -> frozenset[str]:
    return frozenset(_botocore_session().get_available_services())


@functools.cache
def _operations(service: str) -> dict[str, str]:
    """Python method name → OperationName for one service."""
    model = _botocore_session().get_service_model(service)
    return {botocore.xform_name(name): name for name in model.operation_names}


@functools.cache
def _waiters(service: str) -> dict[str, str]:
    """Python waiter name (``endpoint_in_service``) → the operation the waiter polls."""
    try:
        model = _botocore_session().get_waiter_model(service)
    except botocore.exceptions.DataNotFoundError:
        return {}
    return {
        botocore.xform_name(name): model.get_waiter(name).operation for name in model.waiter_names
    }


@functools.cache
def _resource_model(service: str) -> dict | None:
    """boto3's resource definitions (resources-1.json) of a service, None if it has none."""
    loader = botocore.loaders.Loader(extra_search_paths=[str(Path(boto3.__file__).parent / "data")])
    try:
        return loader.load_service_model(service, "resources-1")
    except botocore.exceptions.UnknownServiceError:
        return None
    except botocore.exceptions.DataNotFoundError:
        return None


@functools.cache
def _services_by_method() -> dict[str, tuple[str, ...]]:
    """Python method name → every service that has it (for clients of unknown service).

    Reading all ~450 service models takes seconds, so the index is kept in the temp directory,
    keyed by botocore's version (a new botocore rebuilds it).
    """
    cache = Path(tempfile.gettempdir()) / f"workshopctl-aws-methods-{botocore.__version__}.json"
    if cache.exists():
        return {name: tuple(services) for name, services in json.loads(cache.read_text()).items()}
    loader = _botocore_session().get_component("data_loader")
    index: dict[str, list[str]] = defaultdict(list)
    for service in sorted(_services()):
        for operation in loader.load_service_model(service, "service-2")["operations"]:
            index[botocore.xform_name(operation)].append(service)
    # Written whole then renamed: a concurrent run never reads half a file.
    partial = cache.with_suffix(f".{id(index)}.tmp")
    partial.write_text(json.dumps(index))
    partial.replace(cache)
    return {name: tuple(services) for name, services in index.items()}


# S3's managed transfers are client methods boto3 adds; these are the operations they may make
# (multipart above the 8 MB threshold, a HEAD before a download or a copy).
_MULTIPART = (
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
)
S3_TRANSFER_OPERATIONS: dict[str, tuple[str, ...]] = {
    "upload_file": ("PutObject", *_MULTIPART),
    "upload_fileobj": ("PutObject", *_MULTIPART),
    "download_file": ("HeadObject", "GetObject"),
    "download_fileobj": ("HeadObject", "GetObject"),
    "copy": ("HeadObject", "CopyObject", "UploadPartCopy", *_MULTIPART),
}
# Client attributes that are not API calls.
_CLIENT_ATTRIBUTES = frozenset(
    {
        "exceptions",
        "meta",
        "can_paginate",
        "close",
        "generate_presigned_url",
        "generate_presigned_post",
        "waiter_names",
        "get_waiter",
        "get_paginator",
    }
)


def _operations_of(service: str, method: str) -> tuple[str, ...]:
    """The operations a client method makes: one, several for S3 transfers, none if unknown."""
    if service == "s3" and method in S3_TRANSFER_OPERATIONS:
        return S3_TRANSFER_OPERATIONS[method]
    operation = _operations(service).get(method)
    return (operation,) if operation else ()


def _services_having(method: str) -> tuple[str, ...]:
    if method in S3_TRANSFER_OPERATIONS:
        return ("s3",)
    return _services_by_method().get(method, ())


# -- IAM actions --------------------------------------------------------------------------------
# IAM service prefixes that differ from botocore's signing name.
# CloudWatch signs as "monitoring" but its actions are "cloudwatch:*" (Service Authorization
# Reference, "Actions, resources, and condition keys for Amazon CloudWatch").
_IAM_PREFIX_OVERRIDES = {"monitoring": "cloudwatch", "email": "ses"}

# Operations whose IAM action is not <prefix>:<OperationName>. Each group cites its AWS page:
# https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
IAM_ACTION_EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    # Amazon S3 (Service Authorization Reference, "Actions, resources, and condition keys for
    # Amazon S3", and the S3 User Guide, "Required permissions for Amazon S3 API operations").
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "ListMultipartUploads"): ("s3:ListBucketMultipartUploads",),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "ListBuckets"): ("s3:ListAllMyBuckets",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "SelectObjectContent"): ("s3:GetObject",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    # A copy reads the source object and writes the target one.
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "UploadPartCopy"): ("s3:GetObject", "s3:PutObject"),
    # Multipart uploads are authorized as PutObject (AbortMultipartUpload has its own action).
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycleConfiguration"): ("s3:PutLifecycleConfiguration",),
    ("s3", "DeleteBucketLifecycle"): ("s3:PutLifecycleConfiguration",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("s3:PutEncryptionConfiguration",),
    ("s3", "GetBucketNotificationConfiguration"): ("s3:GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("s3:PutBucketNotification",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("s3:PutBucketPublicAccessBlock",),
    # AWS Lambda ("Actions, resources, and condition keys for AWS Lambda"): invoking a function,
    # streamed or not, is lambda:InvokeFunction.
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "InvokeWithResponseStream"): ("lambda:InvokeFunction",),
    # Amazon SageMaker ("Actions, resources, and condition keys for Amazon SageMaker"): the
    # streaming invocation is authorized by sagemaker:InvokeEndpoint.
    ("sagemaker-runtime", "InvokeEndpointWithResponseStream"): ("sagemaker:InvokeEndpoint",),
    # AWS STS (API reference, GetCallerIdentity): "No permissions are required to perform this
    # operation" - an explicit deny of sts:GetCallerIdentity does not stop it either.
    ("sts", "GetCallerIdentity"): (),
    # AWS Budgets ("Actions, resources, and condition keys for AWS Budget Service"): reads are
    # budgets:ViewBudget, changes to budgets, notifications and subscribers budgets:ModifyBudget.
    **{
        ("budgets", operation): ("budgets:ViewBudget",)
        for operation in (
            "DescribeBudget",
            "DescribeBudgets",
            "DescribeBudgetPerformanceHistory",
            "DescribeNotificationsForBudget",
            "DescribeSubscribersForNotification",
        )
    },
    **{
        ("budgets", operation): ("budgets:ModifyBudget",)
        for operation in (
            "CreateBudget",
            "UpdateBudget",
            "DeleteBudget",
            "CreateNotification",
            "UpdateNotification",
            "DeleteNotification",
            "CreateSubscriber",
            "UpdateSubscriber",
            "DeleteSubscriber",
        )
    },
}

# With ``versions=True`` (the program names object versions, e.g. VersionId in the request),
# S3 also checks the *Version actions ("Actions, resources, and condition keys for Amazon S3":
# s3:GetObjectVersion, s3:DeleteObjectVersion...).
VERSIONED_S3_ACTIONS: dict[str, tuple[str, ...]] = {
    "GetObject": ("s3:GetObjectVersion",),
    "HeadObject": ("s3:GetObjectVersion",),
    "CopyObject": ("s3:GetObjectVersion",),
    "UploadPartCopy": ("s3:GetObjectVersion",),
    "DeleteObject": ("s3:DeleteObjectVersion",),
    "DeleteObjects": ("s3:DeleteObjectVersion",),
    "GetObjectTagging": ("s3:GetObjectVersionTagging",),
    "PutObjectTagging": ("s3:PutObjectVersionTagging",),
    "GetObjectAcl": ("s3:GetObjectVersionAcl",),
    "PutObjectAcl": ("s3:PutObjectVersionAcl",),
}


@functools.cache
def iam_prefix(service: str) -> str:
    """The IAM service prefix of a boto3 client name (``sagemaker-runtime`` → ``sagemaker``)."""
    model = _botocore_session().get_service_model(service)
    name = model.signing_name or model.endpoint_prefix
    return _IAM_PREFIX_OVERRIDES.get(name, name)


def iam_actions(call: AwsCall, *, versions: bool = False) -> tuple[str, ...]:
    """The IAM actions AWS authorizes ``call`` against.

    ``<prefix>:<OperationName>`` unless :data:`IAM_ACTION_EXCEPTIONS` says otherwise (an empty
    tuple: the operation needs no permission). ``versions=True`` adds the S3 ``*Version`` actions
    needed when the request names an object version.
    """
    key = (call.service, call.operation)
    actions = IAM_ACTION_EXCEPTIONS.get(key, (f"{iam_prefix(call.service)}:{call.operation}",))
    if versions and call.service == "s3":
        actions += VERSIONED_S3_ACTIONS.get(call.operation, ())
    return actions


# -- what an expression is: a client, a resource, a collection ----------------------------------
@dataclass(frozen=True)
class _Client:
    service: str | None  # None: a client whose service the source does not tell
    why: str = ""


@dataclass(frozen=True)
class _Resource:
    service: str
    type: str  # "ServiceResource" or a resource name of resources-1.json ("Bucket")


@dataclass(frozen=True)
class _Collection:
    service: str
    definition: tuple[str, str]  # (resource type, collection name)


_Value = _Client | _Resource | _Collection | None

# Parameter and variable names that say which client they hold.
_NAME_HINTS = {
    "sm": "sagemaker",
    "sagemaker": "sagemaker",
    "sm_runtime": "sagemaker-runtime",
    "smr": "sagemaker-runtime",
    "runtime": "sagemaker-runtime",
    "sagemaker_runtime": "sagemaker-runtime",
    "autoscaling": "application-autoscaling",
    "cloudwatch": "cloudwatch",
    "cw": "cloudwatch",
    "quotas": "service-quotas",
    "efs": "efs",
    "sfn": "stepfunctions",
    "eventbridge": "events",
}
_GENERIC_CLIENT_NAMES = frozenset({"client", "boto_client", "aws_client"})
_COLLECTION_METHODS = frozenset({"all", "filter", "limit", "page_size", "pages"})


def _hinted_service(name: str) -> _Client | None:
    """What a parameter's name says: ``s3`` / ``s3_client`` / ``sm`` → that service."""
    stem = name.removesuffix("_client")
    for candidate in (stem, stem.replace("_", "-")):
        if candidate in _NAME_HINTS:
            return _Client(_NAME_HINTS[candidate])
        if candidate in _services():  # s3, ecr, logs, s3_client...: only operations count
            return _Client(candidate)
    if name in _GENERIC_CLIENT_NAMES or name.endswith("_client"):
        return _Client(None, f"parameter {name!r} holds a client of unknown service")
    return None


def _annotated_service(annotation: ast.expr | None) -> _Client | None:
    """``S3Client`` / ``SageMakerRuntimeClient`` (boto3-stubs' names) → that service."""
    if annotation is None:
        return None
    text = ast.unparse(annotation).strip("'\"").rsplit(".", 1)[-1]
    if not text.endswith("Client") or text == "BaseClient":
        return None
    stem = text.removesuffix("Client").lower()
    matches = [s for s in _services() if s.replace("-", "").lower() == stem]
    return _Client(matches[0]) if len(matches) == 1 else None


def _combine(values: Iterable[_Value]) -> _Value:
    """One value for an expression that may hold any of ``values``."""
    values = [value for value in values if value is not None]
    clients = {v.service for v in values if isinstance(v, _Client) and v.service}
    others = {v for v in values if not isinstance(v, _Client)}
    if len(clients) == 1 and not others:
        return _Client(clients.pop())
    if len(clients) > 1:
        return _Client(None, f"holds clients of several services: {', '.join(sorted(clients))}")
    if len(others) == 1 and not clients:
        return others.pop()
    unknown = [v for v in values if isinstance(v, _Client)]
    return unknown[0] if unknown else None


# -- source structure -----------------------------------------------------------------------------
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(eq=False)
class _Scope:
    """A function (or the module body): its parameters, local bindings and own nodes."""

    module: _Module
    node: ast.AST
    parent: _Scope | None
    class_name: str | None = None
    params: dict[str, ast.arg] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    bindings: dict[str, list[ast.expr]] = field(default_factory=lambda: defaultdict(list))
    global_names: set[str] = field(default_factory=set)
    nodes: list[ast.AST] = field(default_factory=list)

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<module>")

    @property
    def is_method(self) -> bool:
        return self.class_name is not None and bool(self.positional)


@dataclass(eq=False)
class _Module:
    path: str
    tree: ast.Module
    package: _Package
    constants: dict[str, str] = field(default_factory=dict)
    scopes: list[_Scope] = field(default_factory=list)
    root: _Scope | None = None
    attribute_bindings: dict[str, list[tuple[ast.expr, _Scope]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    caches: set[str] = field(default_factory=set)  # "CLIENTS", "self._cache": keyed by service


def _own_nodes(body: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Nodes of a scope, not descending into nested functions and classes (lambdas included)."""
    stack = [node for node in body if not isinstance(node, (*_FUNCTIONS, ast.ClassDef))]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (*_FUNCTIONS, ast.ClassDef)):
                stack.append(child)


def _bind_targets(scope: _Scope, target: ast.expr, value: ast.expr) -> None:
    if isinstance(target, ast.Name):
        scope.bindings[target.id].append(value)
    elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        for item, item_value in zip(target.elts, value.elts, strict=False):
            _bind_targets(scope, item, item_value)
    elif isinstance(target, ast.Attribute):
        scope.module.attribute_bindings[target.attr].append((value, scope))
    elif isinstance(target, ast.Subscript) and _is_cache_fill(target, value):
        scope.module.caches.add(ast.unparse(target.value))


def _is_cache_fill(target: ast.Subscript, value: ast.expr) -> bool:
    """``CACHE[name] = ....client(name)``: a cache of clients keyed by their service."""
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "client"
        and bool(value.args)
        and ast.dump(value.args[0]) == ast.dump(target.slice)
    )


def _collect_bindings(scope: _Scope) -> None:
    for node in scope.nodes:
        if isinstance(node, ast.Global):
            scope.global_names.update(node.names)
    for node in scope.nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                _bind_targets(_binding_scope(scope, target), target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            _bind_targets(_binding_scope(scope, node.target), node.target, node.value)


def _binding_scope(scope: _Scope, target: ast.expr) -> _Scope:
    """Assignments to a name declared ``global`` bind in the module scope."""
    if isinstance(target, ast.Name) and target.id in scope.global_names:
        return scope.module.root or scope
    return scope


def _function_scope(module: _Module, node: ast.AST, parent: _Scope, class_name: str | None):
    scope = _Scope(module, node, parent, class_name)
    arguments = node.args  # type: ignore[attr-defined]
    positional = [*arguments.posonlyargs, *arguments.args]
    scope.positional = [arg.arg for arg in positional]
    for arg in [*positional, *arguments.kwonlyargs]:
        scope.params[arg.arg] = arg
    scope.nodes = list(_own_nodes(node.body))  # type: ignore[attr-defined]
    return scope


def _build_scopes(module: _Module, node: ast.AST, scope: _Scope, class_name: str | None) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _FUNCTIONS):
            inner = _function_scope(module, child, scope, class_name)
            module.scopes.append(inner)
            _build_scopes(module, child, inner, None)
        elif isinstance(child, ast.ClassDef):
            _build_scopes(module, child, scope, child.name)
        else:
            _build_scopes(module, child, scope, class_name)


def _parse_module(path: Path, package: _Package) -> _Module:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _Module(str(path), tree, package)
    root = _Scope(module, tree, None)
    root.nodes = list(_own_nodes(tree.body))
    module.root = root
    module.scopes.append(root)
    _build_scopes(module, tree, root, None)
    for scope in module.scopes:
        _collect_bindings(scope)
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    module.constants[target.id] = statement.value.value
    return module


def _literal_string(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The argument at ``index`` (positional) or named ``keyword``; None if not given."""
    before = call.args[: index + 1]
    if index < len(call.args) and not any(isinstance(arg, ast.Starred) for arg in before):
        return call.args[index]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _text(node: ast.AST, limit: int = 120) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _Helper:
    """A dispatch helper: calls the operation named by one parameter on the client in another."""

    scope: _Scope
    client_param: str
    operation_param: str


class _Package:
    """The modules of one directory, read together: helpers and factories are shared there."""

    def __init__(self) -> None:
        self.modules: list[_Module] = []
        self._memo: dict[tuple[int, int], _Value] = {}
        self._in_progress: set[tuple[int, int]] = set()

    # -- functions of the package --------------------------------------------------------------
    @functools.cached_property
    def functions(self) -> dict[str, list[_Scope]]:
        by_name: dict[str, list[_Scope]] = defaultdict(list)
        for module in self.modules:
            for scope in module.scopes:
                if scope.parent is not None:
                    by_name[scope.name].append(scope)
        return by_name

    def callees(self, call: ast.Call, caller: _Scope, any_receiver: bool = False) -> list[_Scope]:
        """The package's functions a call may reach: by name; methods when the receiver is named
        after their class (``clients.get`` → ``Clients.get``) or is ``self``, or on any receiver
        when ``any_receiver`` (dispatch helpers, recognized by their arguments)."""
        func = call.func
        if isinstance(func, ast.Name):
            return [s for s in self.functions.get(func.id, []) if not s.is_method]
        if not isinstance(func, ast.Attribute):
            return []
        receiver = func.value
        terminal = getattr(receiver, "id", None) or getattr(receiver, "attr", "")
        return [
            scope
            for scope in self.functions.get(func.attr, [])
            if scope.is_method
            and (
                terminal.lower() == (scope.class_name or "").lower()
                or (terminal in {"self", "cls"} and _enclosing_class(caller) == scope.class_name)
                or any_receiver
            )
        ]

    @functools.cached_property
    def helpers(self) -> dict[int, _Helper]:
        """Dispatch helpers by id of their scope, found to a fixpoint (helpers calling helpers)."""
        helpers: dict[int, _Helper] = {}
        changed = True
        while changed:
            changed = False
            for scopes in self.functions.values():
                for scope in scopes:
                    if id(scope) in helpers:
                        continue
                    found = _direct_dispatch(scope) or self._forwarded_dispatch(scope, helpers)
                    if found:
                        helpers[id(scope)] = _Helper(scope, *found)
                        changed = True
        return helpers

    def _forwarded_dispatch(self, scope: _Scope, helpers: dict[int, _Helper]):
        for node in scope.nodes:
            if isinstance(node, ast.Call):
                for helper in self.helpers_called(node, scope, helpers):
                    client, operation = self.helper_arguments(node, helper)
                    names = (getattr(client, "id", None), getattr(operation, "id", None))
                    if all(name in scope.params for name in names):
                        return names
        return None

    def helpers_called(self, call: ast.Call, caller: _Scope, helpers=None) -> list[_Helper]:
        helpers = self.helpers if helpers is None else helpers
        callees = self.callees(call, caller, any_receiver=True)
        return [helpers[id(s)] for s in callees if id(s) in helpers]

    @staticmethod
    def helper_arguments(call: ast.Call, helper: _Helper) -> tuple[ast.expr | None, ...]:
        return tuple(
            _argument(call, _position(helper.scope, param), param)
            for param in (helper.client_param, helper.operation_param)
        )

    # -- what an expression holds ---------------------------------------------------------------
    def value(self, expr: ast.expr | None, scope: _Scope) -> _Value:
        """The client/resource ``expr`` holds, memoized (and None while being computed)."""
        if expr is None:
            return None
        key = (id(scope), id(expr))
        if key in self._memo:
            return self._memo[key]
        if key in self._in_progress:
            return None  # a cycle (x = x or ...): the other bindings decide
        self._in_progress.add(key)
        try:
            result = self._compute(expr, scope)
        finally:
            self._in_progress.discard(key)
        self._memo[key] = result
        return result

    def _compute(self, expr: ast.expr, scope: _Scope) -> _Value:
        if isinstance(expr, ast.Call):
            return self._call_value(expr, scope)
        if isinstance(expr, ast.Name):
            return self._name_value(expr.id, scope)
        if isinstance(expr, ast.Attribute):
            return self._attribute_value(expr, scope)
        if isinstance(expr, ast.Subscript):
            return self._subscript_value(expr, scope)
        if isinstance(expr, ast.BoolOp):
            return _combine(self.value(operand, scope) for operand in expr.values)
        if isinstance(expr, ast.IfExp):
            return _combine([self.value(expr.body, scope), self.value(expr.orelse, scope)])
        if isinstance(expr, (ast.NamedExpr, ast.Await)):
            return self.value(expr.value, scope)
        return None

    def literal(self, expr: ast.expr | None, scope: _Scope) -> str | None:
        """A string the expression always has: a literal, or a constant of the package."""
        if expr is None:
            return None
        if (text := _literal_string(expr)) is not None:
            return text
        if not isinstance(expr, ast.Name):
            return None
        for candidate in _scope_chain(scope):
            values = candidate.bindings.get(expr.id, [])
            if values or expr.id in candidate.params:
                texts = {_literal_string(value) for value in values}
                if expr.id in candidate.params or len(texts) != 1:
                    return None
                return texts.pop()
        found = {m.constants[expr.id] for m in self.modules if expr.id in m.constants}
        return found.pop() if len(found) == 1 else None

    def _call_value(self, call: ast.Call, scope: _Scope) -> _Value:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in {"client", "resource"}:
            argument = _argument(call, 0, "service_name")
            service = self.literal(argument, scope)
            if service is None:
                if argument is None or func.attr == "resource":
                    return None
                return _Client(None, f"service name {_text(argument)} is not a literal")
            if service not in _services():
                return None  # some other API's .client(...)
            if func.attr == "client":
                return _Client(service)
            return _Resource(service, "ServiceResource") if _resource_model(service) else None
        if isinstance(func, ast.Attribute):
            receiver = self.value(func.value, scope)
            if isinstance(receiver, _Resource):
                return _sub_resource(receiver, func.attr)
            if isinstance(receiver, _Collection) and func.attr in _COLLECTION_METHODS:
                return receiver
        return _combine(
            self._factory_value(callee, call, scope) for callee in self.callees(call, scope)
        )

    def _factory_value(self, factory: _Scope, call: ast.Call, caller: _Scope) -> _Value:
        """What a call of ``factory`` returns: a client of its service-name argument, or the one
        client every ``return`` of it gives."""
        service_param = _service_parameter(factory)
        if service_param is not None:
            argument = _argument(call, _position(factory, service_param), service_param)
            service = self.literal(argument, caller)
            if service in _services():
                return _Client(service)
            if argument is None:
                return None
            return _Client(None, f"{factory.name}({_text(argument)}): service is not a literal")
        returns = [n.value for n in factory.nodes if isinstance(n, ast.Return) and n.value]
        values = [self.value(value, factory) for value in returns]
        if values and all(isinstance(v, (_Client, _Resource)) for v in values):
            return _combine(values)
        return None

    def _name_value(self, name: str, scope: _Scope) -> _Value:
        for candidate in _scope_chain(scope):
            if name in candidate.global_names:
                candidate = scope.module.root  # a ``global`` name: the module's bindings decide
            if name in candidate.bindings or name in candidate.params:
                values = [self.value(value, candidate) for value in candidate.bindings[name]]
                if name in candidate.params:
                    values.append(self._parameter_value(candidate, name))
                return _combine(values)
        return None

    def _parameter_value(self, scope: _Scope, name: str) -> _Value:
        """A parameter: its annotation, else what every caller in the module passes, else its
        name."""
        annotated = _annotated_service(scope.params[name].annotation)
        if annotated:
            return annotated
        passed = _combine(self._caller_values(scope, name))
        if (isinstance(passed, _Client) and passed.service) or isinstance(passed, _Resource):
            return passed
        return _hinted_service(name) or passed

    def _caller_values(self, scope: _Scope, name: str) -> Iterator[_Value]:
        if scope.is_method or name not in scope.positional + list(scope.params):
            return
        position = _position(scope, name)
        for caller in scope.module.scopes:
            for node in caller.nodes:
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == scope.name
                ):
                    yield self.value(_argument(node, position, name), caller)

    def _attribute_value(self, expr: ast.Attribute, scope: _Scope) -> _Value:
        is_meta_client = isinstance(expr.value, ast.Attribute) and expr.value.attr == "meta"
        if expr.attr == "client" and is_meta_client:  # resource.meta.client
            owner = self.value(expr.value.value, scope)  # type: ignore[attr-defined]
            if isinstance(owner, _Resource):
                return _Client(owner.service)
        receiver = self.value(expr.value, scope) if isinstance(expr.value, ast.expr) else None
        if isinstance(receiver, _Resource):
            return _collection(receiver, expr.attr)
        bound = scope.module.attribute_bindings.get(expr.attr, [])
        return _combine(self.value(value, where) for value, where in bound)

    def _subscript_value(self, expr: ast.Subscript, scope: _Scope) -> _Value:
        key = self.literal(expr.slice, scope)
        if ast.unparse(expr.value) in scope.module.caches:
            if key in _services():
                return _Client(key)
            return _Client(None, f"client cache {_text(expr)}: key is not a literal service")
        if isinstance(expr.value, ast.Name) and key is not None:
            for candidate in _scope_chain(scope):
                for bound in candidate.bindings.get(expr.value.id, []):
                    if isinstance(bound, ast.Dict):
                        for dict_key, dict_value in zip(bound.keys, bound.values, strict=True):
                            if dict_key is not None and _literal_string(dict_key) == key:
                                return self.value(dict_value, candidate)
        return None


def _scope_chain(scope: _Scope) -> Iterator[_Scope]:
    current: _Scope | None = scope
    while current is not None:
        yield current
        current = current.parent


def _enclosing_class(scope: _Scope) -> str | None:
    return next((s.class_name for s in _scope_chain(scope) if s.class_name), None)


def _position(scope: _Scope, param: str) -> int:
    """Index of ``param`` among the call's positional arguments (``self`` is not passed)."""
    if param not in scope.positional:
        return 10_000  # keyword-only
    return scope.positional.index(param) - (1 if scope.is_method else 0)


def _direct_dispatch(scope: _Scope) -> tuple[str, str] | None:
    """``getattr(client, operation)`` / ``client.get_paginator(operation)`` on two parameters."""
    for node in scope.nodes:
        if not isinstance(node, ast.Call):
            continue
        pair: tuple[ast.expr, ast.expr] | None = None
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            pair = (node.args[0], node.args[1])
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get_paginator", "get_waiter"}
            and node.args
        ):
            pair = (node.func.value, node.args[0])
        if pair and all(isinstance(e, ast.Name) and e.id in scope.params for e in pair):
            return pair[0].id, pair[1].id  # type: ignore[attr-defined]
    return None


def _service_parameter(scope: _Scope) -> str | None:
    """The parameter a factory passes to ``.client(...)`` as the service name, if any."""
    for node in scope.nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "client"
        ):
            argument = _argument(node, 0, "service_name")
            if isinstance(argument, ast.Name) and argument.id in scope.params:
                return argument.id
    return None


def _resource_definition(resource: _Resource) -> dict:
    model = _resource_model(resource.service) or {}
    if resource.type == "ServiceResource":
        return model.get("service", {})
    return model.get("resources", {}).get(resource.type, {})


def _sub_resource(resource: _Resource, name: str) -> _Resource | None:
    """``s3.Bucket(name)``, ``bucket.Object(key)``: a resource of the named type."""
    has = _resource_definition(resource).get("has", {})
    if name in has:
        return _Resource(resource.service, has[name]["resource"]["type"])
    return None


def _collection(resource: _Resource, attribute: str) -> _Collection | None:
    """``bucket.objects``: a collection (listed by its request operation)."""
    for name in _resource_definition(resource).get("hasMany", {}):
        if botocore.xform_name(name) == attribute:
            return _Collection(resource.service, (resource.type, name))
    return None


# -- finding the calls ----------------------------------------------------------------------------
_Found = AwsCall | UnresolvedCall


class _Scanner:
    """The calls of one scope."""

    def __init__(self, package: _Package, scope: _Scope) -> None:
        self.package = package
        self.scope = scope
        self.path = scope.module.path
        self.helper = package.helpers.get(id(scope))

    def scan(self) -> Iterator[_Found]:
        for node in self.scope.nodes:
            if isinstance(node, ast.Call):
                yield from self._call(node)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                yield from self._attribute(node)

    def _attribute(self, node: ast.Attribute) -> Iterator[_Found]:
        if node.attr in _CLIENT_ATTRIBUTES:
            return
        receiver = self.package.value(node.value, self.scope)
        if isinstance(receiver, _Client):
            yield from self._method(receiver, node.attr, node, node.value)

    def _call(self, node: ast.Call) -> Iterator[_Found]:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"get_waiter", "get_paginator"}:
            receiver = self.package.value(func.value, self.scope)
            if isinstance(receiver, _Client):
                yield from self._waiter_or_paginator(receiver, func.attr, node)
        elif isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2:
            receiver = self.package.value(node.args[0], self.scope)
            if isinstance(receiver, _Client):
                yield from self._named_method(receiver, node.args[1], node, node.args[0])
        elif isinstance(func, ast.Attribute):
            receiver = self.package.value(func.value, self.scope)
            if isinstance(receiver, (_Resource, _Collection)):
                yield from self._resource_call(receiver, func.attr, node)
        for helper in self.package.helpers_called(node, self.scope):
            client_arg, operation_arg = self.package.helper_arguments(node, helper)
            if client_arg is None:
                continue
            client = self.package.value(client_arg, self.scope)
            if not isinstance(client, _Client):
                why = f"{_text(client_arg)} passed to {helper.scope.name}() is of unknown origin"
                client = _Client(None, why)
            yield from self._named_method(client, operation_arg, node, client_arg)

    def _forwarded(self, argument: ast.expr | None) -> bool:
        """True inside a dispatch helper for its own operation parameter: callers say which."""
        return (
            self.helper is not None
            and isinstance(argument, ast.Name)
            and argument.id == self.helper.operation_param
        )

    def _named_method(self, client: _Client, name_arg, node: ast.Call, receiver) -> Iterator:
        if self._forwarded(name_arg):
            return
        method = self.package.literal(name_arg, self.scope)
        if method is None:
            yield self._unresolved(
                node,
                f"operation name {_text(name_arg) if name_arg else '?'} is computed at run time",
                service=client.service or "",
            )
        else:
            yield from self._method(client, method, node, receiver)

    def _waiter_or_paginator(self, client: _Client, kind: str, node: ast.Call) -> Iterator:
        name_arg = _argument(node, 0, "waiter_name" if kind == "get_waiter" else "operation_name")
        if self._forwarded(name_arg):
            return
        name = self.package.literal(name_arg, self.scope)
        if client.service is None or name is None:
            what = "service" if client.service is None else f"{kind} name"
            yield self._unresolved(node, f"{what} is not known statically", client.service or "")
            return
        if kind == "get_waiter":
            operation = _waiters(client.service).get(name)
        else:
            operation = _operations(client.service).get(name)
        if operation is None:
            yield self._unresolved(node, f"{client.service} has no {kind[4:]} {name!r}")
            return
        yield AwsCall(client.service, operation, f"{kind}({name!r})", self.path, node.lineno)

    def _method(self, client: _Client, method: str, node: ast.AST, receiver) -> Iterator[_Found]:
        service = client.service or self._service_by_method(method, receiver)
        if service is None:
            candidates = _services_having(method)
            if candidates:  # an operation name: a real call we cannot attribute
                yield self._unresolved(
                    node,
                    f"{client.why or 'client of unknown service'}; {method} exists in "
                    f"{len(candidates)} services",
                    candidates=candidates,
                )
            return
        for operation in _operations_of(service, method):
            yield AwsCall(service, operation, method, self.path, node.lineno)

    def _service_by_method(self, method: str, receiver: ast.expr | None) -> str | None:
        """The one service having every operation called on this receiver in this scope."""
        receiver_text = ast.unparse(receiver) if receiver is not None else ""
        methods = {method} | {
            node.attr
            for node in self.scope.nodes
            if isinstance(node, ast.Attribute) and ast.unparse(node.value) == receiver_text
            if node.attr not in _CLIENT_ATTRIBUTES and _services_having(node.attr)
        }
        common = set.intersection(*(set(_services_having(m)) for m in methods))
        return common.pop() if len(common) == 1 else None

    def _resource_call(self, receiver, method: str, node: ast.Call) -> Iterator[_Found]:
        for operation in _resource_operations(receiver, method):
            yield AwsCall(receiver.service, operation, method, self.path, node.lineno)

    def _unresolved(self, node, reason: str, service: str = "", candidates=()) -> UnresolvedCall:
        return UnresolvedCall(self.path, node.lineno, _text(node), reason, service, candidates)


def _resource_operations(receiver: _Resource | _Collection, method: str) -> tuple[str, ...]:
    """The operation of a resource action, load, waiter, collection listing or batch action."""
    if isinstance(receiver, _Collection):
        owner = _Resource(receiver.service, receiver.definition[0])
        many = _resource_definition(owner).get("hasMany", {})[receiver.definition[1]]
        if method in _COLLECTION_METHODS:
            return (many["request"]["operation"],)
        item = _Resource(receiver.service, many["resource"]["type"])
        batch = _resource_definition(item).get("batchActions", {})
        actions = {botocore.xform_name(name): value for name, value in batch.items()}
        return (actions[method]["request"]["operation"],) if method in actions else ()
    definition = _resource_definition(receiver)
    actions = {botocore.xform_name(n): v for n, v in definition.get("actions", {}).items()}
    if method in actions:
        return (actions[method]["request"]["operation"],)
    if method in {"load", "reload"} and "load" in definition:
        return (definition["load"]["request"]["operation"],)
    waiters = {
        f"wait_until_{botocore.xform_name(n)}": v for n, v in definition.get("waiters", {}).items()
    }
    if method in waiters:
        name = botocore.xform_name(waiters[method]["waiterName"])
        operation = _waiters(receiver.service).get(name)
        return (operation,) if operation else ()
    if receiver.service == "s3" and method in S3_TRANSFER_OPERATIONS:
        return S3_TRANSFER_OPERATIONS[method]
    return ()


# -- files and the public API ---------------------------------------------------------------------
_SKIPPED_DIRECTORIES = frozenset({"tests", "test", "__pycache__", "node_modules", "cdk.out"})


def _is_test_file(path: Path) -> bool:
    return (
        path.name == "conftest.py" or path.name.startswith("test_") or path.stem.endswith("_test")
    )


def python_files(*paths: Path) -> list[Path]:
    """The Python files under ``paths`` (directories recursively), tests and caches left out."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
            continue
        for candidate in sorted(path.rglob("*.py")):
            relative = candidate.relative_to(path).parts[:-1]
            hidden = any(part.startswith(".") for part in relative)
            if hidden or _SKIPPED_DIRECTORIES.intersection(relative) or _is_test_file(candidate):
                continue
            files.append(candidate)
    return list(dict.fromkeys(files))


def extract(*paths: Path) -> Extraction:
    """Every boto3 call in the Python files under ``paths``, resolved or not.

    Files of one directory are read together (a helper or a client factory in ``aws.py`` serves
    the whole package); duplicates (same call, same line) are reported once.
    """
    packages: dict[Path, _Package] = defaultdict(_Package)
    for path in python_files(*paths):
        package = packages[path.parent.resolve()]
        package.modules.append(_parse_module(path, package))
    found: set[_Found] = set()
    for package in packages.values():
        for module in package.modules:
            for scope in module.scopes:
                found.update(_Scanner(package, scope).scan())
    calls = sorted((f for f in found if isinstance(f, AwsCall)), key=_order)
    unresolved = sorted((f for f in found if isinstance(f, UnresolvedCall)), key=_order)
    return Extraction(tuple(calls), tuple(unresolved))


def _order(found: _Found) -> tuple:
    return (found.path, found.line, *(str(value) for value in vars(found).values()))


def extract_calls(*paths: Path, unresolved: list[UnresolvedCall] | None = None) -> list[AwsCall]:
    """The AWS calls of the Python files under ``paths``.

    Calls that cannot be resolved statically are appended to ``unresolved`` when a list is
    given; without one, :class:`UnresolvedCallsError` is raised, so none is silently dropped.
    """
    extraction = extract(*paths)
    if extraction.unresolved:
        if unresolved is None:
            raise UnresolvedCallsError(extraction)
        unresolved.extend(extraction.unresolved)
    return list(extraction.calls)


# -- command line -------------------------------------------------------------------------------
def format_table(extraction: Extraction) -> str:
    """The calls as an aligned table (file:line, service, operation, IAM actions), then the
    unresolved ones."""
    rows = [("where", "service", "operation", "IAM actions")]
    for call in extraction.calls:
        actions = ", ".join(iam_actions(call)) or "(none needed)"
        rows.append((f"{call.path}:{call.line}", call.service, call.operation, actions))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[3]
             for row in rows]  # fmt: skip
    lines.append(f"{len(extraction.calls)} call(s)")
    if extraction.unresolved:
        lines.append(f"\n{len(extraction.unresolved)} unresolved call(s): declare their actions")
        lines += [
            f"{u.path}:{u.line}  {u.expression}  -- {u.reason}"
            + (f" ({', '.join(u.candidates)})" if u.candidates else "")
            for u in extraction.unresolved
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workshopctl.aws_calls",
        description="List the boto3 calls of Python files and the IAM actions they need.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="files or directories")
    parser.add_argument(
        "--strict", action="store_true", help="exit with 1 when some calls are unresolved"
    )
    args = parser.parse_args(argv)
    extraction = extract(*args.paths)
    print(format_table(extraction))
    return 1 if args.strict and extraction.unresolved else 0


if __name__ == "__main__":
    sys.exit(main())
