"""What synth builds besides templates: the serving models, the reviews corpus, the pipelines'
code tarball, and the runtimes they are built with.

The stacks ship these as assets; the builders run the ``training_code`` programs as processes
(``programs``) or call its plain functions. It may import ``workshop_spec`` and
``training_code``, nothing else of the project (``tests/test_import_direction.py``).
"""
