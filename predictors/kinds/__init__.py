"""The model kinds a predictor can hold, each registered by name (``models.register``) so
``predictor.json`` can name it: gradient-boosted trees, random forests, lookup, FLOPs, rooflines
and the calibrated few-shot model."""
