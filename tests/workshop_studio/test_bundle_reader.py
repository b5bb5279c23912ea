"""The bundle read back as an assembly: template parameters given values (Workshop Studio's
asset parameters), asset destinations filled from the same values, and the default
cdk-bootstrap assembly read as before."""

from __future__ import annotations

import pytest

from workshopctl.cloud_assembly import (
    CloudAssembly,
    MissingParameterError,
    asset_destinations,
    file_assets,
)
from workshopctl.emulator import deploy
from workshopctl.workshop_studio_bundle import (
    EVENT_ASSETS_PREFIX,
    BundleReadError,
    bundle_layout,
    event_parameters,
    event_region,
    participant_role,
)

ACCOUNT, REGION = "210987654321", "eu-west-1"


def _bundle_assembly(bundle, parameters):
    layout = bundle_layout(bundle.folder)
    return CloudAssembly(
        bundle.folder, account=ACCOUNT, region=REGION, parameters=parameters, layout=layout
    )


def test_the_layout_is_the_contentspecs_templates_in_order_each_after_the_one_before(bundle):
    layout = bundle_layout(bundle.folder)
    assert list(layout.templates) == bundle.stacks
    assert [layout.dependencies[name] for name in bundle.stacks] == [
        [],
        *[[earlier] for earlier in bundle.stacks[:-1]],
    ]
    assert event_region(bundle.folder) == REGION
    assert len(layout.assets) == bundle.assets


def test_parameters_resolve_to_the_given_values(bundle):
    parameters = event_parameters(ACCOUNT, REGION)
    assembly = _bundle_assembly(bundle, parameters)
    [function, *_] = assembly.resources("AWS::Lambda::Function")
    code = function.properties["Code"]
    assert code["S3Bucket"] == parameters["AssetsBucketName"]
    assert code["S3Key"].startswith(EVENT_ASSETS_PREFIX)
    assert function.arn.startswith(f"arn:aws:lambda:{REGION}:{ACCOUNT}:")


def test_a_missing_or_unknown_parameter_is_an_error_naming_it(bundle):
    with pytest.raises(MissingParameterError, match=r"AssetsBucketPrefix \(stack mlws-"):
        _bundle_assembly(bundle, {"AssetsBucketName": "event-bucket"})
    with pytest.raises(MissingParameterError, match="AssetsBucketname"):
        _bundle_assembly(bundle, {**event_parameters(ACCOUNT, REGION), "AssetsBucketname": "x"})


def test_asset_destinations_of_the_bundles_cdk_out_name_the_event_bucket(bundle, bundle_assembly):
    parameters = event_parameters(ACCOUNT, REGION)
    files, images = asset_destinations(bundle_assembly, ACCOUNT, REGION, parameters)
    assert images == set()
    assert {bucket for bucket, _ in files} == {parameters["AssetsBucketName"]}
    uploaded = {path.name for path in (bundle.folder / "assets").iterdir()}
    assert {key for _, key in files} == {EVENT_ASSETS_PREFIX + name for name in uploaded}
    # Without values the placeholders stay (a reader that publishes nothing).
    files, _ = asset_destinations(bundle_assembly, ACCOUNT, REGION)
    assert {bucket for bucket, _ in files} == {"${AssetsBucketName}"}


def test_asset_bytes_reads_only_the_asset_it_matched(bundle_assembly, monkeypatch):
    assembly = CloudAssembly(
        bundle_assembly,
        account=ACCOUNT,
        region=REGION,
        parameters=event_parameters(ACCOUNT, REGION),
    )
    assets = file_assets(assembly)
    folders = [a for a in assets if a.packaging == "zip" and a.source.is_dir()]
    files = [a for a in assets if a.packaging == "file"]
    assert len(folders) > 1 and files
    zipped = []
    original = deploy._zipped
    monkeypatch.setattr(deploy, "_zipped", lambda folder: zipped.append(folder) or original(folder))
    assert deploy.asset_bytes(assembly, files[0].bucket, files[0].key) == (
        files[0].source.read_bytes()
    )
    assert zipped == []
    assert deploy.asset_bytes(assembly, folders[0].bucket, folders[0].key)[:2] == b"PK"
    assert zipped == [folders[0].source]
    with pytest.raises(LookupError, match="s3://nowhere/x"):
        deploy.asset_bytes(assembly, "nowhere", "x")


def test_the_default_assembly_publishes_to_the_bootstrap_bucket_as_before(synth):
    outdir = synth().outdir  # the session's default-config synthesis
    assembly = CloudAssembly(outdir)
    assert assembly.parameters == {}
    buckets = {asset.bucket for asset in file_assets(assembly)}
    assert buckets == {f"cdk-hnb659fds-assets-{assembly.account}-{assembly.region}"}
    files, _ = asset_destinations(outdir, assembly.account, assembly.region)
    assert files == {(asset.bucket, asset.key) for asset in file_assets(assembly)}
    order = deploy.stack_order(assembly)
    assert order.index("mlws-data-lake") < order.index("mlws-attendee-environment")


def test_the_participant_role_is_the_bundles_policy(bundle):
    role = participant_role(bundle.folder, ACCOUNT)
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/WSParticipantRole"
    [(source, policy)] = role.policies
    assert source == "static/iam_policy.json" and policy["Statement"]


def test_a_folder_without_a_contentspec_is_refused_by_name(tmp_path):
    with pytest.raises(BundleReadError, match="make workshop-studio"):
        bundle_layout(tmp_path)
