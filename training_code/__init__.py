"""The workshop's ML as SageMaker-contract programs.

Every job entry point lives in a sub-package (``bike/``, ``bank/``, ``tuning/``) and imports only
the standard library, the scientific stack and this package, never ``workshopctl`` or ``stacks``:
the programs ship into SageMaker containers on their own.

Packaging: a SageMaker job gets the folder *holding* ``training_code/`` as its source dir (the CDK
asset stages ``training_code/`` under a prefix), so inside the container the code sits at
``/opt/ml/code/training_code/...`` (training) or ``/opt/ml/processing/input/code/training_code/...``
(processing) and the entry point is e.g. ``training_code/bike/train.py``. Each entry point puts the
folder above ``training_code`` on ``sys.path`` when run as a plain script, so both
``python -m training_code.bike.train`` and ``python training_code/bike/train.py`` work.
"""
