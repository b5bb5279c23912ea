"""Operator tooling for the workshop: the CLI and the local target.

It reads the config model from ``workshop_spec`` and what synth built from ``cdk.out``. Nothing
here imports aws_cdk, and the stacks never import this package (tests/test_import_direction.py).
"""
