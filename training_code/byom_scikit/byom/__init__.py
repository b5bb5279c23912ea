"""Bring-your-own scikit-learn container for the workshop's Module 7 (train and serve).

Everything here ships inside the container image and imports nothing from the rest of the
project. ``python -m byom train|serve`` is the image's entry point.
"""

__version__ = "1.0.0"
