"""AttendeeSignInStack: how attendees get in. One IAM user per attendee, in one attendees
group whose one policy
lets each user open, start and stop their own notebook instance (or open their own Studio user
profile) and change their own password, and nothing else.

Why IAM users, not IAM Identity Center or a launcher (the README's "Running an event" says it
for organisers): a workshop account is usually a standalone account without AWS Organizations;
Identity Center there needs an account instance, which cannot grant AWS console or API access to
the account (permission sets need an organisation instance), and a launcher would be a web
application with its own authentication to build, host and secure for one day. IAM users need
nothing but the stack, and CloudFormation removes them with it.

A stack of its own, after the attendee environment: two resources per attendee (the user and
its secret) would take the environment's stack past CloudFormation's 500 resources at the
config's 100 attendees
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).

Each user is named like their notebook and Studio profile, ``<prefix>-<attendee>``, so one
group policy serves everyone through the ``${aws:username}`` policy variable
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): the
resource is the notebook named after the caller. The console's Open button calls
``CreatePresignedNotebookInstanceUrl``, whose IAM authorisation also applies to every request to
the notebook's Jupyter server
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedNotebookInstanceUrl.html);
Studio's is ``CreatePresignedDomainUrl`` on the user profile
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreatePresignedDomainUrl.html).
Resource types per action: the Service Authorization Reference for SageMaker
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).

Passwords: Secrets Manager generates each first password; the user's login profile receives it
through a dynamic reference, so it never appears in the template
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html),
and IAM makes the attendee choose a new one at the first sign-in.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks import nag
from stacks.attendee_environment import AttendeeEnvironmentStack
from workshop_spec.config import WorkshopConfig

OWN = "${aws:username}"  # IAM substitutes the signed-in user's name
# Characters a person misreads on a printed sheet or a shell mangles when pasted.
HARD_TO_HAND_OUT = "\"'`\\/@ lI1O0|"
PASSWORD_LENGTH = 20


class AttendeeSignInStack(cdk.Stack):
    """An attendees group with the one sign-in policy, and per attendee an IAM user in it whose
    first console password a Secrets Manager secret holds (reset required at first sign-in);
    outputs ``SignIn<attendee>`` with what the hand-out prints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WorkshopConfig,
        attendee_environment: AttendeeEnvironmentStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._config = config
        self._studio_domain_id = attendee_environment.studio_domain_id
        key = attendee_environment.notebook_key
        self.group = iam.Group(self, "AttendeesGroup")
        self.policy = self._sign_in_policy()
        self.users: dict[str, iam.User] = {}
        self.password_secrets: dict[str, secretsmanager.Secret] = {}
        for attendee in config.attendee_names:
            secret = self._password(attendee, key)
            user = iam.User(
                self,
                f"{attendee}-User",
                user_name=self.user_name(attendee),
                groups=[self.group],
                password=secret.secret_value_from_json("password"),
                password_reset_required=True,
            )
            self.users[attendee] = user
            self.password_secrets[attendee] = secret
            cdk.CfnOutput(
                self,
                f"SignIn-{attendee}",
                value=self.to_json_string(
                    {
                        "attendee": attendee,
                        "sign_in_url": self.sign_in_url(),
                        "user_name": self.user_name(attendee),
                        "password_secret_arn": secret.secret_arn,
                    }
                ),
                description=f"{attendee}: console sign-in page, user name, first password's secret",
            )

    def user_name(self, attendee: str) -> str:
        """The attendee's sign-in name: their notebook's (and Studio profile's) name."""
        return self._config.notebook_name(attendee)

    @staticmethod
    def sign_in_url() -> str:
        """The account's console sign-in page (an IAM user signs in with account id + name)."""
        return f"https://{cdk.Aws.ACCOUNT_ID}.signin.aws.amazon.com/console"

    # -- the first password ------------------------------------------------------------------
    def _password(self, attendee: str, key: kms.IKey) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            f"{attendee}-Password",
            description=f"{self._config.prefix}: {attendee}'s first console password "
            "(IAM asks for a new one at the first sign-in)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": self.user_name(attendee)}),
                generate_string_key="password",
                password_length=PASSWORD_LENGTH,
                exclude_characters=HARD_TO_HAND_OUT,
            ),
        )
        nag.acknowledge(
            secret,
            "A one-time first password: IAM makes the attendee replace it at the first sign-in, "
            "after which the secret no longer matches any credential; rotating it would change "
            "nothing IAM checks. The secret is deleted with the stack after the event.",
            "AwsSolutions-SMG4",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
            "HIPAA.Security-SecretsManagerRotationEnabled",
        )
        return secret

    # -- what a signed-in attendee may do -------------------------------------------------------
    def _sign_in_policy(self) -> iam.ManagedPolicy:
        own_workspace, list_workspaces = (
            self._studio_statements() if self._studio_domain_id else self._notebook_statements()
        )
        change_password = iam.PolicyStatement(
            sid="ChangeOwnPassword",
            actions=["iam:ChangePassword"],
            resources=[
                self.format_arn(service="iam", region="", resource="user", resource_name=OWN)
            ],
        )
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_user-change-own.html
        password_rules = iam.PolicyStatement(
            sid="ReadPasswordRules",
            actions=["iam:GetAccountPasswordPolicy"],
            resources=["*"],
        )
        policy = iam.ManagedPolicy(
            self,
            "SignInPolicy",
            description=f"{self._config.prefix}: each attendee opens, starts and stops only "
            "the notebook (or Studio profile) named like their IAM user, and changes their "
            "own password",
            groups=[self.group],
            statements=[
                own_workspace,
                *([self._studio_domain_statement()] if self._studio_domain_id else []),
                list_workspaces,
                change_password,
                password_rules,
            ],
        )
        nag.acknowledge_wildcards(
            policy,
            [
                (
                    list_workspaces,
                    "SageMaker's List actions take no resource ARN (AWS requires Resource '*'); "
                    "they let the console show the list in which the attendee finds and starts "
                    "their own notebook, and reveal names and states only, which the hand-out "
                    "already prints.",
                ),
                (
                    password_rules,
                    "GetAccountPasswordPolicy takes no resource ARN; the console reads the "
                    "account's password rules when the attendee sets a new password.",
                ),
            ],
        )
        return policy

    def _notebook_statements(self) -> tuple[iam.PolicyStatement, iam.PolicyStatement]:
        own = iam.PolicyStatement(
            sid="OwnNotebook",
            actions=[
                "sagemaker:CreatePresignedNotebookInstanceUrl",
                "sagemaker:DescribeNotebookInstance",
                "sagemaker:StartNotebookInstance",
                "sagemaker:StopNotebookInstance",
            ],
            resources=[self._sagemaker_arn("notebook-instance", OWN)],
        )
        listing = iam.PolicyStatement(
            sid="ListNotebooks", actions=["sagemaker:ListNotebookInstances"], resources=["*"]
        )
        return own, listing

    def _studio_statements(self) -> tuple[iam.PolicyStatement, iam.PolicyStatement]:
        """Open their own profile, and read the domain. Each action on the resource type it is
        authorised against only (CreatePresignedDomainUrl: user-profile; DescribeDomain:
        domain), so the domain ARN never admits a presigned URL."""
        domain = self._studio_domain_id
        own = iam.PolicyStatement(
            sid="OwnStudioProfile",
            actions=["sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile"],
            resources=[self._sagemaker_arn("user-profile", f"{domain}/{OWN}")],
        )
        listing = iam.PolicyStatement(
            sid="ListStudio",
            actions=["sagemaker:ListDomains", "sagemaker:ListUserProfiles"],
            resources=["*"],
        )
        return own, listing

    def _studio_domain_statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid="ReadStudioDomain",
            actions=["sagemaker:DescribeDomain"],
            resources=[self._sagemaker_arn("domain", self._studio_domain_id)],
        )

    def _sagemaker_arn(self, kind: str, name: str) -> str:
        return self.format_arn(service="sagemaker", resource=kind, resource_name=name)
