"""Operator tooling for the workshop: the typed config, the CLI and the local target.

Nothing here imports aws_cdk: the stacks import the config model, never the reverse.
"""
