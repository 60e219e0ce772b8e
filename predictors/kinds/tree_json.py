"""scikit-learn decision trees as plain JSON arrays, and prediction from them with numpy.

Saving a random forest this way avoids pickles: a tree is its node arrays (children, split
feature, threshold, leaf value). Splits compare float32 features, as scikit-learn does.
"""
from __future__ import annotations

import numpy as np


def tree_to_json(tree) -> dict:
    """Node arrays of a fitted `sklearn.tree.DecisionTreeRegressor` (single output)."""
    t = tree.tree_
    return {"left": t.children_left.tolist(), "right": t.children_right.tolist(),
            "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
            "value": t.value[:, 0, 0].tolist()}


def predict_tree(nodes: dict, X: np.ndarray) -> np.ndarray:
    """Leaf values of one JSON tree for the rows of `X` (n, features)."""
    left = np.asarray(nodes["left"])
    right = np.asarray(nodes["right"])
    feature = np.asarray(nodes["feature"])
    threshold = np.asarray(nodes["threshold"])
    X32 = np.asarray(X, dtype=np.float32)
    rows = np.arange(len(X32))
    node = np.zeros(len(X32), dtype=np.int64)
    active = left[node] >= 0
    while active.any():
        idx = rows[active]
        cur = node[idx]
        go_left = X32[idx, feature[cur]] <= threshold[cur]
        node[idx] = np.where(go_left, left[cur], right[cur])
        active = left[node] >= 0
    return np.asarray(nodes["value"])[node]
