"""DataLakeStack: the workshop's S3 data lake, its Glue catalog and its Athena workgroup.

Reads top to bottom as data flows: a customer key → the access-log bucket → raw, curated and
query-results buckets → the vendored datasets copied into raw → a Glue database with one
explicit table per dataset → the reviews ETL job, run once by the deploy (Module 4's Parquet is
there when the lab starts) → an Athena workgroup and the named queries the labs use.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from stacks import nag
from stacks.constructs import grants
from stacks.constructs.exact_role import exact_role
from stacks.constructs.packaged_function import packaged_function
from stacks.constructs.teardown import customer_key, encrypted_log_group, removal_policy
from training_code.reviews import schema as reviews_schema
from workshop_artifacts.reviews_data import staged_reviews
from workshop_spec import platforms
from workshop_spec.config import PROJECT_ROOT, WorkshopConfig
from workshop_spec.datasets import CSV_DATASETS, DATA_DIR, NAMED_QUERIES, NOT_DEPLOYED, CsvDataset

ATHENA_RESULTS_PREFIX = "athena/"
REVIEWS_ETL_SCRIPT = PROJECT_ROOT / "training_code" / "reviews" / "etl.py"
CRAWLED_TABLE_PREFIX = "crawled_"  # the crawler exercise's tables never collide with the stack's
# A table parameter that marks the stack's own tables: the janitor deletes only the others.
STACK_OWNED_TABLE = ("workshop:owner", "stack")


class DataLakeStack(cdk.Stack):
    """Buckets (raw, curated, Athena results, access logs) under one customer KMS key, the
    vendored datasets in raw, a Glue database with a table per dataset, and an Athena workgroup
    with enforced, encrypted results, a bytes-scanned cutoff and the workshop's named queries."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: WorkshopConfig, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._removal = removal_policy(config)

        self.data_key = self._data_key()
        self.access_logs_bucket = self._access_logs_bucket()
        self.raw_bucket = self._data_bucket("Raw", logs_prefix="raw/")
        self.curated_bucket = self._data_bucket("Curated", logs_prefix="curated/")
        self.athena_results_bucket = self._athena_results_bucket()
        self._reviews = staged_reviews(config.data_lake.reviews_scale)
        self._datasets_deployment = self._vendored_datasets()
        self.database = self._catalog()
        self._reviews_tables()
        self._glue_security = self._glue_security_configuration()
        self.reviews_etl_job = self._reviews_etl_job()
        if config.data_lake.run_reviews_etl_on_deploy:
            self._reviews_etl_on_deploy()
        if config.data_lake.reviews_crawler:
            self._reviews_crawler()
        self.workgroup = self._workgroup()
        self._named_queries()
        self._outputs()
        self.exports = self._named_exports()
        nag.acknowledge_cdk_helpers(self)
        nag.acknowledge_bucket_deployment_role(self, self.raw_bucket)

    # -- encryption ----------------------------------------------------------------------------
    def _data_key(self) -> kms.Key:
        return customer_key(
            self,
            "DataKey",
            config=self._config,
            purpose="encrypts the data lake, Athena results and Glue's logs and bookmarks",
            for_log_groups=True,  # Glue's security configuration encrypts its logs with it
        )

    # -- buckets -------------------------------------------------------------------------------
    def _access_logs_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 server access logging can only deliver to a bucket encrypted with SSE-S3.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            lifecycle_rules=[self._noncurrent_rule(), self._abort_uploads_rule()],
            **self._common_bucket_settings(),
        )
        nag.acknowledge(
            bucket,
            "This is the access-log bucket itself: logging it into itself would log its own log "
            "deliveries without end; its writes come only from the S3 logging service.",
            "AwsSolutions-S1",
            "NIST.800.53.R5-S3BucketLoggingEnabled",
            "HIPAA.Security-S3BucketLoggingEnabled",
        )
        nag.acknowledge(
            bucket,
            "S3 server access log delivery supports only SSE-S3 (AES256) on the target bucket; "
            "the logs hold request metadata, never workshop data.",
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "HIPAA.Security-S3DefaultEncryptionKMS",
        )
        self._acknowledge_no_replication(bucket)
        return bucket

    def _data_bucket(self, name: str, *, logs_prefix: str) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            f"{name}Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,  # one KMS call per bucket key, not per object: cheaper
            versioned=True,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix=logs_prefix,
            lifecycle_rules=[self._noncurrent_rule(), self._abort_uploads_rule()],
            **self._common_bucket_settings(),
        )
        self._acknowledge_no_replication(bucket)
        return bucket

    def _athena_results_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AthenaResultsBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="athena-results/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-query-results",
                    expiration=cdk.Duration.days(self._config.athena.results_expiry_days),
                ),
                self._abort_uploads_rule(),
            ],
            **self._common_bucket_settings(),
        )
        nag.acknowledge(
            bucket,
            "Athena query results are derived copies that any attendee can re-create by re-running "
            "the query, and they expire after a few days; versioning would only keep deleted "
            "results around longer.",
            "NIST.800.53.R5-S3BucketVersioningEnabled",
            "HIPAA.Security-S3BucketVersioningEnabled",
        )
        self._acknowledge_no_replication(bucket)
        return bucket

    def _common_bucket_settings(self) -> dict:
        return {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "enforce_ssl": True,
            "minimum_tls_version": 1.2,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": self._removal,
            # Empties every object version on `cdk destroy`; off when data must be retained.
            "auto_delete_objects": self._config.destroy_on_teardown,
        }

    def _noncurrent_rule(self) -> s3.LifecycleRule:
        return s3.LifecycleRule(
            id="expire-noncurrent-versions",
            noncurrent_version_expiration=cdk.Duration.days(
                self._config.data_lake.noncurrent_version_expiry_days
            ),
        )

    def _abort_uploads_rule(self) -> s3.LifecycleRule:
        return s3.LifecycleRule(
            id="abort-incomplete-multipart-uploads",
            abort_incomplete_multipart_upload_after=cdk.Duration.days(
                self._config.data_lake.abort_incomplete_upload_days
            ),
        )

    def _acknowledge_no_replication(self, bucket: s3.Bucket) -> None:
        nag.acknowledge(
            bucket,
            nag.NO_REPLICATION,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "HIPAA.Security-S3BucketReplicationEnabled",
        )

    # -- data ----------------------------------------------------------------------------------
    def _vendored_datasets(self) -> s3_deployment.BucketDeployment:
        """Copy data/ into raw as it is laid out (one folder per table, docs/ beside them)."""
        reviews = self._reviews  # Module 4's TSV at the config's scale (generated, cached)
        return s3_deployment.BucketDeployment(
            self,
            "VendoredDatasets",
            sources=[
                s3_deployment.Source.asset(str(DATA_DIR), exclude=list(NOT_DEPLOYED)),
                # Module 4's reviews as TSV under reviews/tsv/, generated at the config's scale.
                s3_deployment.Source.asset(
                    str(reviews.root),
                    asset_hash=reviews.fingerprint,
                    asset_hash_type=cdk.AssetHashType.CUSTOM,
                ),
            ],
            destination_bucket=self.raw_bucket,
            # Teardown is the buckets' auto-delete's job; `prune` would delete attendees' files.
            prune=False,
            retain_on_delete=True,
            memory_limit=512,
        )

    # -- catalog -------------------------------------------------------------------------------
    def _catalog(self) -> glue.CfnDatabase:
        database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=self.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self._config.glue_database_name,
                description=f"{self._config.prefix}: the workshop's tables over the raw bucket",
            ),
        )
        for dataset in CSV_DATASETS:
            table = glue.CfnTable(
                self,
                f"Table-{dataset.table}",
                catalog_id=self.account,
                database_name=self._config.glue_database_name,
                table_input=self._csv_table_input(dataset),
            )
            table.add_resource_dependency(database)
        return database

    def _csv_table_input(self, dataset: CsvDataset) -> glue.CfnTable.TableInputProperty:
        return glue.CfnTable.TableInputProperty(
            name=dataset.table,
            description=dataset.description,
            table_type="EXTERNAL_TABLE",
            parameters={
                "classification": "csv",
                "skip.header.line.count": "1",
                "has_encrypted_data": "true",
                STACK_OWNED_TABLE[0]: STACK_OWNED_TABLE[1],  # the janitor keeps these
            },
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                location=self.raw_bucket.s3_url_for_object(f"{dataset.raw_prefix}/"),
                input_format="org.apache.hadoop.mapred.TextInputFormat",
                output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                serde_info=_csv_serde(dataset),
                columns=[
                    glue.CfnTable.ColumnProperty(name=column.name, type=column.type)
                    for column in dataset.columns
                ],
            ),
        )

    # -- Module 4: reviews, raw TSV → Spark ETL → partitioned Parquet ----------------------------
    def _reviews_tables(self) -> None:
        """Both tables declared explicitly: the Parquet one with partition projection on
        product_category, so no crawler and no MSCK REPAIR is needed before querying."""
        curated_location = self.curated_bucket.s3_url_for_object(reviews_schema.CURATED_PREFIX)
        tables = {
            reviews_schema.RAW_TABLE: (
                "Module 4 reviews as published: tab-separated, one file per category",
                self.raw_bucket.s3_url_for_object(f"{reviews_schema.RAW_PREFIX}/"),
                reviews_schema.RAW_COLUMNS,
                [],
                reviews_schema.RAW_TABLE_STORAGE,
                {},
            ),
            reviews_schema.CURATED_TABLE: (
                "Module 4 reviews after the Spark ETL: typed Snappy Parquet by product_category",
                f"{curated_location}/",
                reviews_schema.CURATED_COLUMNS,
                [reviews_schema.PARTITION_COLUMN],
                reviews_schema.CURATED_TABLE_STORAGE,
                reviews_schema.partition_projection(curated_location),
            ),
        }
        for name, (description, location, columns, partitions, storage, extra) in tables.items():
            table = glue.CfnTable(
                self,
                f"Table-{name}",
                catalog_id=self.account,
                database_name=self._config.glue_database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=name,
                    description=description,
                    table_type="EXTERNAL_TABLE",
                    parameters={
                        **storage["table_parameters"],
                        **extra,
                        "has_encrypted_data": "true",
                        STACK_OWNED_TABLE[0]: STACK_OWNED_TABLE[1],
                    },
                    partition_keys=[
                        glue.CfnTable.ColumnProperty(name=c.name, type=c.type) for c in partitions
                    ],
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        location=location,
                        input_format=storage["input_format"],
                        output_format=storage["output_format"],
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library=storage["serialization_library"],
                            parameters=storage["serde_parameters"],
                        ),
                        columns=[
                            glue.CfnTable.ColumnProperty(name=c.name, type=c.type) for c in columns
                        ],
                    ),
                ),
            )
            table.add_resource_dependency(self.database)

    def _glue_security_configuration(self) -> glue.CfnSecurityConfiguration:
        return glue.CfnSecurityConfiguration(
            self,
            "GlueSecurity",
            name=f"{self._config.prefix}-glue",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=self.data_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.data_key.key_arn
                ),
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=self.data_key.key_arn
                    )
                ],
            ),
        )

    def _glue_role(
        self,
        construct_id: str,
        description: str,
        statements: list[tuple[iam.PolicyStatement, str | None]],
    ) -> iam.Role:
        """A Glue service role with exactly ``statements`` plus its encrypted logs."""
        role = iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=description,
        )
        logs_statement = iam.PolicyStatement(
            sid="WriteGlueLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:AssociateKmsKey",
            ],
            resources=[
                self.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="/aws-glue/*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
        key_statement = iam.PolicyStatement(
            sid="UseDataKey",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[self.data_key.key_arn],
        )
        all_statements = [
            *statements,
            (
                logs_statement,
                "Glue writes to log groups it names under /aws-glue/ (with the security "
                "configuration's suffix) and to streams named after each run.",
            ),
            (key_statement, None),
        ]
        policy = iam.ManagedPolicy(
            self,
            f"{construct_id}Policy",
            description=description,
            roles=[role],
            statements=[statement for statement, _ in all_statements],
        )
        nag.acknowledge_wildcards(policy, [(s, why) for s, why in all_statements if why])
        self._glue_policies = [*getattr(self, "_glue_policies", []), policy]
        return role

    def _reviews_etl_job(self) -> glue.CfnJob:
        """The Spark ETL as a Glue 5 job: raw TSV in, typed Parquet out, bad rows quarantined."""
        script = s3_assets.Asset(self, "ReviewsEtlScript", path=str(REVIEWS_ETL_SCRIPT))
        self._reviews_etl_script = script
        raw, curated = self.raw_bucket.bucket_arn, self.curated_bucket.bucket_arn
        curated_keys = [
            f"{curated}/{reviews_schema.CURATED_PREFIX}/*",
            f"{curated}/{reviews_schema.QUARANTINE_PREFIX}/*",
            f"{curated}/{reviews_schema.SUMMARY_KEY}",
        ]
        role = self._glue_role(
            "ReviewsEtlRole",
            f"{self._config.prefix}: the reviews ETL reads raw TSV, writes curated Parquet",
            [
                (
                    iam.PolicyStatement(
                        sid="ReadScript",
                        actions=["s3:GetObject"],
                        resources=[script.bucket.arn_for_objects(script.s3_object_key)],
                    ),
                    None,
                ),
                (
                    iam.PolicyStatement(
                        sid="ReadRawReviews",
                        actions=["s3:GetObject"],
                        resources=[f"{raw}/{reviews_schema.RAW_PREFIX}/*"],
                    ),
                    "The job reads every TSV file under the raw reviews prefix; their names "
                    "depend on the categories generated.",
                ),
                (
                    iam.PolicyStatement(
                        sid="ListReviewPrefixes",
                        actions=["s3:ListBucket"],
                        resources=[raw, curated],
                        conditions={"StringLike": {"s3:prefix": ["reviews/*", "reviews"]}},
                    ),
                    None,
                ),
                (
                    # --enable-metrics below: the job publishes its metrics with this role.
                    iam.PolicyStatement(
                        sid="PutJobMetrics",
                        actions=["cloudwatch:PutMetricData"],
                        resources=["*"],
                        conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
                    ),
                    "PutMetricData has no resource-level permissions (AWS requires Resource "
                    "'*'); the condition limits it to Glue's own metric namespace.",
                ),
                (
                    iam.PolicyStatement(
                        sid="WriteCuratedReviews",
                        # Spark's file commit writes temporary files, then renames (copy +
                        # delete) them into place: it needs delete on its own output prefixes.
                        actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        resources=curated_keys,
                    ),
                    "Spark writes one Parquet file per task and partition with generated "
                    "names, under the job's three output prefixes only.",
                ),
            ],
        )
        job = glue.CfnJob(
            self,
            "ReviewsEtlJob",
            name=f"{self._config.prefix}-reviews-etl",
            description="Module 4: reviews TSV → validated, typed Parquet by product_category",
            role=role.role_arn,
            glue_version=platforms.identifier("glue"),
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            worker_type="G.1X",
            number_of_workers=2,
            max_retries=0,
            timeout=60,
            security_configuration=self._glue_security.ref,
            default_arguments={
                "--source": self.raw_bucket.s3_url_for_object(f"{reviews_schema.RAW_PREFIX}/"),
                "--target": self.curated_bucket.s3_url_for_object(
                    f"{reviews_schema.CURATED_PREFIX}/"
                ),
                "--quarantine": self.curated_bucket.s3_url_for_object(
                    f"{reviews_schema.QUARANTINE_PREFIX}/"
                ),
                "--summary": self.curated_bucket.s3_url_for_object(reviews_schema.SUMMARY_KEY),
                "--write-mode": "append",
                "--job-bookmark-option": "job-bookmark-enable",
                "--enable-metrics": "true",
            },
        )
        for policy in self._glue_policies:
            job.node.add_dependency(policy)
        return job

    def _reviews_etl_on_deploy(self) -> None:
        """The deploy runs the ETL once and waits for it (issue 17: Module 4's data is there when
        the lab starts): a custom resource after the raw TSV is in S3 and the job exists, backed
        by ``lambdas/glue_run``, which answers SUCCESS with the run's id or FAILED with its error.

        Each deploy run is a full rebuild: the bookmark is reset and the run overwrites the
        curated prefixes, so a retried or repeated run never appends duplicates, and the
        bookmark afterwards covers exactly the files read (a later run of the job with its
        defaults, bookmark + append, adds only new files). Its properties carry what the output
        depends on (the script's hash, the job's arguments, the reviews' fingerprint): changing
        any of them on a later deploy runs the job again; any other deploy does not.
        """
        job = self.reviews_etl_job
        job_arn = self.format_arn(service="glue", resource="job", resource_name=job.ref)
        log_group = encrypted_log_group(
            self, "ReviewsEtlRunLogs", config=self._config, key=self.data_key
        )
        role = exact_role(
            self,
            "ReviewsEtlRunRole",
            policy_id="ReviewsEtlRunPolicy",
            service="lambda.amazonaws.com",
            description=f"{self._config.prefix}: runs the reviews ETL once during cdk deploy",
            log_group=log_group,
            statements=[
                iam.PolicyStatement(
                    sid="RunReviewsEtl",
                    # StartJobRun needs no iam:PassRole: the job's role was passed at CreateJob.
                    actions=["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns"],
                    resources=[job_arn],
                ),
                iam.PolicyStatement(
                    sid="ResetReviewsEtlBookmark",
                    actions=["glue:ResetJobBookmark"],
                    resources=["*"],  # AWS defines this action on no resource
                ),
            ],
        )
        nag.acknowledge(
            role.policy,
            "glue:ResetJobBookmark has no resource-level permissions (the Service Authorization "
            "Reference lists no resource type for it, so an ARN-scoped Allow never matches); the "
            "function resets only the job its custom resource names, and only before rerunning "
            "that job in full, so the bookmark then covers exactly the files the run read.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        function = packaged_function(
            self,
            "ReviewsEtlRunFunction",
            package="glue_run",
            handler="handler.handler",
            shared=("cfn_response",),
            description="Custom resource: run the reviews ETL job and wait for its run",
            role=role.role,
            policy=role.policy,
            log_group=log_group,
            # Lambda's maximum. Glue 5.0 starts a run in well under a minute and this ETL reads
            # a few MB at scale 1: a few minutes in all. The function answers (FAILED, with
            # the run id) a minute before it would time out, never leaving CloudFormation to
            # wait its hour, so the longest a deploy can wait on the run is 14 minutes.
            timeout=cdk.Duration.minutes(15),
            why_no_dead_letter_queue="Invoked only by CloudFormation during deploys; it answers "
            "every request (even on error) through CloudFormation's response URL, so a "
            "dead-letter queue would never receive anything the stack events do not already show.",
            why_no_vpc="It calls only the Glue API and CloudFormation's pre-signed S3 response "
            "URL; the data lake has no VPC, and one with a NAT gateway would add cost without "
            "narrowing what the function can reach.",
        )
        script = self._reviews_etl_script
        run = cdk.CustomResource(
            self,
            "ReviewsEtlRun",
            service_token=function.function_arn,
            resource_type="Custom::ReviewsEtlRun",
            properties={
                "JobName": job.ref,
                # A full rebuild, whatever the job's default (append) is: see the docstring.
                "Arguments": {"--write-mode": "overwrite"},
                "ResetBookmark": "true",
                "RunInputs": {
                    "ScriptHash": script.asset_hash,
                    "JobArguments": job.default_arguments,
                    "ReviewsFingerprint": self._reviews.fingerprint,
                },
            },
        )
        # The raw TSV must be in S3 before the run reads it (the job is a Ref: created first).
        run.node.add_dependency(self._datasets_deployment)
        cdk.CfnOutput(
            self,
            "ReviewsEtlRunId",
            description="The deploy's run of the reviews ETL (Glue console: Jobs, Runs)",
            value=run.get_att_string("JobRunId"),
        )

    def _reviews_crawler(self) -> None:
        """The module's crawler exercise: crawls the curated Parquet into its own table name."""
        curated = self.curated_bucket.bucket_arn
        database = self._config.glue_database_name
        role = self._glue_role(
            "ReviewsCrawlerRole",
            f"{self._config.prefix}: the reviews crawler reads curated Parquet, writes one table",
            [
                (
                    iam.PolicyStatement(
                        sid="ReadCuratedReviews",
                        actions=["s3:GetObject", "s3:ListBucket"],
                        resources=[curated, f"{curated}/{reviews_schema.CURATED_PREFIX}/*"],
                    ),
                    "The crawler samples every Parquet file under the curated reviews prefix.",
                ),
                (
                    iam.PolicyStatement(
                        sid="WriteCrawledTable",
                        actions=[
                            "glue:GetDatabase",
                            "glue:GetTable",
                            "glue:CreateTable",
                            "glue:UpdateTable",
                            "glue:BatchGetPartition",
                            "glue:BatchCreatePartition",
                            "glue:GetPartitions",
                        ],
                        resources=grants.glue_table_arns(
                            self, database, f"{CRAWLED_TABLE_PREFIX}*"
                        ),
                    ),
                    f"The crawler names its table after the folder it finds, under the prefix "
                    f"'{CRAWLED_TABLE_PREFIX}' so it can never overwrite a table of the stack.",
                ),
            ],
        )
        crawler = glue.CfnCrawler(
            self,
            "ReviewsCrawler",
            name=f"{self._config.prefix}-reviews-crawler",
            description="Module 4 exercise: crawl the curated reviews into a table of its own",
            role=role.role_arn,
            database_name=database,
            table_prefix=CRAWLED_TABLE_PREFIX,
            crawler_security_configuration=self._glue_security.ref,
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=self.curated_bucket.s3_url_for_object(
                            f"{reviews_schema.CURATED_PREFIX}/"
                        )
                    )
                ]
            ),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="UPDATE_IN_DATABASE", delete_behavior="LOG"
            ),
        )
        crawler.add_resource_dependency(self.database)

    # -- query -----------------------------------------------------------------------------------
    def _workgroup(self) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "Workgroup",
            name=self._config.athena_workgroup_name,
            description=f"{self._config.prefix}: the workshop's Athena queries",
            state="ENABLED",
            # Lets `cdk destroy` delete the workgroup even when it holds named queries and history.
            recursive_delete_option=self._config.destroy_on_teardown,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=self._config.athena.bytes_scanned_cutoff_mb
                * 1024
                * 1024,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.athena_results_bucket.s3_url_for_object(
                        ATHENA_RESULTS_PREFIX
                    ),
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS",
                        kms_key=self.data_key.key_arn,
                    ),
                    expected_bucket_owner=self.account,
                ),
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
            ),
        )

    def _named_queries(self) -> None:
        for query in NAMED_QUERIES:
            named_query = athena.CfnNamedQuery(
                self,
                f"Query-{query.name}",
                name=query.name,
                description=query.description,
                database=self._config.glue_database_name,
                work_group=self.workgroup.ref,
                query_string=query.sql,
            )
            named_query.add_resource_dependency(self.database)

    # -- hand-out ------------------------------------------------------------------------------
    def _named_exports(self) -> DataLakeExports:
        def export(name: str, value: str) -> str:
            return self.export_value(value, name=f"{self.stack_name}:{name}")

        return DataLakeExports(
            raw_bucket_arn=export("RawBucketArn", self.raw_bucket.bucket_arn),
            curated_bucket_arn=export("CuratedBucketArn", self.curated_bucket.bucket_arn),
            athena_results_bucket_arn=export(
                "AthenaResultsBucketArn", self.athena_results_bucket.bucket_arn
            ),
        )

    def _outputs(self) -> None:
        outputs = {
            "RawBucketName": self.raw_bucket.bucket_name,
            "CuratedBucketName": self.curated_bucket.bucket_name,
            "AthenaResultsBucketName": self.athena_results_bucket.bucket_name,
            "GlueDatabaseName": self._config.glue_database_name,
            "AthenaWorkgroupName": self.workgroup.ref,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)


@dataclass(frozen=True)
class DataLakeExports:
    """Bucket ARNs for other stacks' policies, through exports with names known before synth.

    Policies that grant ``<bucket ARN>/prefix/*`` raise wildcard findings whose ids contain the
    ARN's CloudFormation spelling; a named export makes that spelling predictable, so each
    finding can be acknowledged next to its statement.
    """

    raw_bucket_arn: str
    curated_bucket_arn: str
    athena_results_bucket_arn: str


def _csv_serde(dataset: CsvDataset) -> glue.CfnTable.SerdeInfoProperty:
    if dataset.quoted:
        # OpenCSVSerde strips the double quotes around bank-marketing's strings.
        return glue.CfnTable.SerdeInfoProperty(
            serialization_library="org.apache.hadoop.hive.serde2.OpenCSVSerde",
            parameters={"separatorChar": dataset.delimiter, "quoteChar": '"', "escapeChar": "\\"},
        )
    return glue.CfnTable.SerdeInfoProperty(
        serialization_library="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        parameters={"field.delim": dataset.delimiter, "serialization.format": dataset.delimiter},
    )
