"""Load an ``xgboost-model`` file as the built-in XGBoost 1.7-1 serving container does and
print its predictions for a label-first CSV as JSON.

Run with a runtime's interpreter (``python serving_probe.py MODEL_FILE CSV ROWS``), so it must
stay valid on Python 3.9 and xgboost 1.7. The order of attempts follows the container's
``serve_utils.get_loaded_booster``: a pickle first, else ``Booster.load_model(path)`` on the
extension-less file name; then ``nthread=1`` as the container sets.
"""

import json
import pickle
import sys

import numpy as np
import xgboost as xgb


def load_like_the_container(model_file):
    try:
        with open(model_file, "rb") as handle:
            return pickle.load(handle), "pickle"
    except Exception:  # the container falls through to XGBoost's own formats the same way
        booster = xgb.Booster()
        booster.load_model(model_file)
        return booster, "xgboost"


def main(model_file, csv_file, rows):
    booster, model_format = load_like_the_container(model_file)
    booster.set_param("nthread", 1)
    table = np.loadtxt(csv_file, delimiter=",", max_rows=int(rows), ndmin=2)
    features = table[:, 1:]  # what an endpoint caller sends: the features, no label
    predictions = booster.predict(xgb.DMatrix(features))
    print(
        json.dumps(
            {
                "xgboost": xgb.__version__,
                "format": model_format,
                "num_features": booster.num_features(),
                "predictions": [float(p) for p in predictions],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
