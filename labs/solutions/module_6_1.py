"""Module 6.1, exercise 1: logarithmic and narrower ranges.

``eta`` and ``alpha`` act in orders of magnitude, so a logarithmic scale spends the budget
evenly over 0.01-0.1 and 0.1-1 instead of mostly above 0.1; a logarithmic range must stay above
0 (SageMaker: "Logarithmic scaling works only for ranges that have only values greater than 0",
https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html).
``max_depth`` narrows to where module 6.2 found the good trials.
"""


def log_ranges():
    """The ranges of a second tuning job (pass them as ``hyperparameter_ranges``)."""
    from sagemaker.core.parameter import ContinuousParameter, IntegerParameter

    return {
        "eta": ContinuousParameter(0.01, 1, scaling_type="Logarithmic"),
        "min_child_weight": ContinuousParameter(1, 10),
        "alpha": ContinuousParameter(0.001, 2, scaling_type="Logarithmic"),
        "max_depth": IntegerParameter(3, 8),
    }


# In the notebook, a second tuner over the same trainer:
# log_tuner = HyperparameterTuner(model_trainer=trainer, objective_metric_name="validation:auc",
#     hyperparameter_ranges=log_ranges(), strategy="Bayesian", max_jobs=MAX_JOBS,
#     max_parallel_jobs=MAX_PARALLEL_JOBS, tags=workshop.tags())
# log_tuner.tune(inputs=channels, job_name=workshop.new_name("tuning-job", "hpo-log"), wait=False)
