"""The benchmark's baseline: the 2020 workshop sample's predictor, on current libraries.

Same structure as ``container/decision_trees/predictor.py`` of the 2020
"scikit_bring_your_own" sample: Flask, the pickled model loaded once per worker on first use,
``pandas.read_csv`` on every request, ``print`` per request, and the answer written with
``DataFrame.to_csv``. The bench runs it under gunicorn with the same worker count as ours.
The model pickle is written by the bench itself in the same run, so loading it is safe here.
"""

from __future__ import annotations

import io
import os
import pickle

import flask
import pandas as pd

MODEL_PATH = os.environ.get("BASELINE_MODEL_PATH", "/opt/ml/model/decision-tree-model.pkl")


class ScoringService:
    model = None

    @classmethod
    def get_model(cls):
        if cls.model is None:
            with open(MODEL_PATH, "rb") as handle:
                cls.model = pickle.load(handle)
        return cls.model

    @classmethod
    def predict(cls, frame):
        return cls.get_model().predict(frame)


app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    healthy = ScoringService.get_model() is not None
    return flask.Response(
        response="\n", status=200 if healthy else 404, mimetype="application/json"
    )


@app.route("/invocations", methods=["POST"])
def transformation():
    if flask.request.content_type != "text/csv":
        return flask.Response("This predictor only supports CSV data", 415, mimetype="text/plain")
    frame = pd.read_csv(io.StringIO(flask.request.data.decode("utf-8")), header=None)
    print(f"Invoked with {frame.shape[0]} records")
    predictions = ScoringService.predict(frame.to_numpy())
    out = io.StringIO()
    pd.DataFrame({"results": predictions}).to_csv(out, header=False, index=False)
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
