"""Latency models on numeric feature frames: fit on measured ms, predict mean and std in ms.

Every model has `fit(X, y_ms)`, `predict(X) -> (mean_ms, std_ms)`, `to_json()` and
`from_json(state)`; the JSON is plain data (XGBoost boosters in XGBoost's own JSON schema),
never a pickle. Models of ratios (xgb, rf) learn log-latency, so their errors are relative.

- `xgb`: gradient-boosted trees on log-latency; std from a second booster fitted to the
  15.9 % / 84.1 % quantiles (half their distance is one log-σ).
- `rf`: random forest on log-latency; std from the spread of its trees.
- `roofline`: non-negative linear model on the additive features (`n:`, `macs:`, `bytes:` per
  op, see kernel_features) plus a constant overhead: per-op time per MAC, per byte, per call.
- `lookup`: exact table of measured rows (same feature values), FLOPs baseline elsewhere.
- `flops`: latency proportional to MACs.
- `per_op`: one model of a base kind per op type (nn-Meter style), a global one for rare ops.

Each kind registers itself by name (`@register`), so `from_json` can rebuild it; so do the
transferred kinds, `fused_roofline` (predictors.kinds.roofline) and `fewshot_calibrated`
(predictors.kinds.calibrated_model).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.ensemble import RandomForestRegressor

from predictors.kernel_features import is_additive
from predictors.kinds.tree_json import predict_tree, tree_to_json

MIN_LATENCY_MS = 1e-6
SIGMA_QUANTILES = [0.158655, 0.841345]  # ±1σ of a normal


MODELS: dict[str, type[LatencyModel]] = {}  # name → class; filled by @register


def register(cls: type[LatencyModel]) -> type[LatencyModel]:
    """Class decorator: make a model kind loadable from predictor.json by its ``name``."""
    if cls.name in MODELS:
        raise ValueError(f"model kind {cls.name!r} is already registered by {MODELS[cls.name]!r}")
    MODELS[cls.name] = cls
    return cls


class LatencyModel:
    """Base: remembers the feature names and checks them at prediction time."""

    name = "base"
    trainable = True  # fitted on profile rows by predictors.train (False: built another way)

    def __init__(self):
        self.feature_names: list[str] = []

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise ValueError(f"{self.name} model: features missing {missing[:5]}")
        return X[self.feature_names].to_numpy(dtype=float)

    def fit(self, X: pd.DataFrame, y_ms) -> "LatencyModel":
        self.feature_names = list(X.columns)
        y = np.maximum(np.asarray(y_ms, dtype=float), MIN_LATENCY_MS)
        self._fit(self._matrix(X), y)
        return self

    def predict(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Predicted latency mean and std in ms, one per row of X."""
        return self._predict(self._matrix(X))

    def to_json(self) -> dict:
        return {"name": self.name, "feature_names": self.feature_names, **self._state()}

    @classmethod
    def from_json(cls, state: dict) -> "LatencyModel":
        model = MODELS[state["name"]].__new__(MODELS[state["name"]])
        LatencyModel.__init__(model)
        model.feature_names = list(state["feature_names"])
        model._load(state)
        return model


def _relative_spread(y: np.ndarray, pred: np.ndarray) -> float:
    """Std of the relative error (pred - y) / y, the σ of the proportional models."""
    return float(np.std((pred - y) / y)) if len(y) > 1 else 1.0


@register
class FlopsModel(LatencyModel):
    """latency_ms = k · macs, k fitted for least relative squared error."""

    name = "flops"

    def _fit(self, X, y):
        m = X[:, self.feature_names.index("macs")]
        r = m / y
        self.ms_per_mac = float(r.sum() / max((r * r).sum(), 1e-300))
        self.rel_std = _relative_spread(y, self.ms_per_mac * m)

    def _predict(self, X):
        mean = self.ms_per_mac * X[:, self.feature_names.index("macs")]
        return mean, self.rel_std * mean

    def _state(self):
        return {"ms_per_mac": self.ms_per_mac, "rel_std": self.rel_std}

    def _load(self, s):
        self.ms_per_mac, self.rel_std = s["ms_per_mac"], s["rel_std"]


@register
class RooflineModel(LatencyModel):
    """Non-negative linear cost per op (ms per call, per MAC, per byte) + constant overhead,
    fitted for least relative squared error."""

    name = "roofline"

    def _terms(self) -> list[int]:
        terms = [i for i, c in enumerate(self.feature_names) if is_additive(c)]
        return terms or [self.feature_names.index("macs"), self.feature_names.index("bytes")]

    def _fit(self, X, y):
        self.terms = self._terms()
        A = np.hstack([X[:, self.terms], np.ones((len(X), 1))])
        scale = np.abs(A).max(axis=0)
        scale[scale == 0] = 1.0
        coef, _ = nnls(A / scale / y[:, None], np.ones(len(y)), maxiter=50 * A.shape[1])
        self.coef = (coef / scale).tolist()
        self.rel_std = _relative_spread(y, self._mean(X))

    def _mean(self, X):
        coef = np.asarray(self.coef)
        return X[:, self.terms] @ coef[:-1] + coef[-1]

    def _predict(self, X):
        mean = self._mean(X)
        return mean, self.rel_std * np.abs(mean)

    def _state(self):
        return {"terms": [self.feature_names[i] for i in self.terms], "coef": self.coef,
                "rel_std": self.rel_std}

    def _load(self, s):
        self.terms = [self.feature_names.index(c) for c in s["terms"]]
        self.coef, self.rel_std = s["coef"], s["rel_std"]


def _xgb():
    """xgboost, imported where a boosted model is used (the other models run without it)."""
    import xgboost

    return xgboost


@register
class XGBModel(LatencyModel):
    """Gradient-boosted trees on log-latency, with a quantile booster for the spread."""

    name = "xgb"
    PARAMS = dict(n_estimators=400, max_depth=6, learning_rate=0.05, subsample=0.8,
                  colsample_bytree=0.8, min_child_weight=1.0, n_jobs=1, random_state=0)

    def _fit(self, X, y):
        xgb = _xgb()
        params = dict(self.PARAMS, min_child_weight=min(self.PARAMS["min_child_weight"], len(y) / 10))
        mean = xgb.XGBRegressor(objective="reg:squarederror", **params).fit(X, np.log(y))
        spread = xgb.XGBRegressor(objective="reg:quantileerror", quantile_alpha=np.array(SIGMA_QUANTILES),
                                  **params).fit(X, np.log(y))
        self.mean_booster, self.spread_booster = mean.get_booster(), spread.get_booster()

    def _predict(self, X):
        data = _xgb().DMatrix(X)
        log_mean = self.mean_booster.predict(data).astype(float)
        q = self.spread_booster.predict(data).reshape(len(X), -1).astype(float)
        mean = np.exp(log_mean)
        return mean, mean * np.abs(q[:, 1] - q[:, 0]) / 2

    def _state(self):
        return {"mean_booster": json.loads(self.mean_booster.save_raw("json")),
                "spread_booster": json.loads(self.spread_booster.save_raw("json"))}

    def _load(self, s):
        self.mean_booster, self.spread_booster = _xgb().Booster(), _xgb().Booster()
        self.mean_booster.load_model(bytearray(json.dumps(s["mean_booster"]).encode()))
        self.spread_booster.load_model(bytearray(json.dumps(s["spread_booster"]).encode()))


@register
class ForestModel(LatencyModel):
    """Random forest on log-latency; std from the spread of the trees' predictions."""

    name = "rf"
    PARAMS = dict(n_estimators=100, max_features=0.5, min_samples_leaf=1, n_jobs=1, random_state=0)

    def _fit(self, X, y):
        forest = RandomForestRegressor(**self.PARAMS).fit(X, np.log(y))
        self.trees = [tree_to_json(t) for t in forest.estimators_]

    def _predict(self, X):
        logs = np.stack([predict_tree(t, X) for t in self.trees])
        mean = np.exp(logs.mean(axis=0))
        return mean, mean * logs.std(axis=0)

    def _state(self):
        return {"trees": self.trees}

    def _load(self, s):
        self.trees = s["trees"]


@register
class LookupModel(LatencyModel):
    """Exact table: rows with the same feature values as a measured row get its mean (std of
    repeated rows); other rows fall back to the FLOPs baseline."""

    name = "lookup"

    @staticmethod
    def _keys(X) -> list[str]:
        return [",".join(repr(float(v)) for v in row) for row in X]

    def _fit(self, X, y):
        frame = pd.DataFrame({"key": self._keys(X), "y": y})
        stats = frame.groupby("key")["y"].agg(["mean", "std"]).fillna(0.0)
        self.table = {k: [float(m), float(s)] for k, m, s in stats.itertuples()}
        self.fallback = FlopsModel()
        self.fallback.feature_names = self.feature_names
        self.fallback._fit(X, y)

    def covers(self, X: pd.DataFrame) -> np.ndarray:
        """True where the row was measured (exact feature match)."""
        return np.array([k in self.table for k in self._keys(self._matrix(X))])

    def _predict(self, X):
        mean, std = self.fallback._predict(X)
        for i, key in enumerate(self._keys(X)):
            if key in self.table:
                mean[i], std[i] = self.table[key]
        return mean, std

    def _state(self):
        return {"table": self.table, "fallback": self.fallback.to_json()}

    def _load(self, s):
        self.table = {k: list(v) for k, v in s["table"].items()}
        self.fallback = LatencyModel.from_json(s["fallback"])


@register
class PerOpModel(LatencyModel):
    """One model of kind `base` per op (rows with `n:<op>` = 1 and at least `min_rows` of
    them), a global model of the same kind for the other ops."""

    name = "per_op"

    def __init__(self, base: str = "xgb", min_rows: int = 20):
        super().__init__()
        self.base, self.min_rows = base, min_rows

    def _ops(self, X) -> np.ndarray:
        op_cols = [c for c in self.feature_names if c.startswith("n:")]
        if not op_cols:
            raise ValueError("per_op model needs kernel features with n:<op> columns")
        hot = X[:, [self.feature_names.index(c) for c in op_cols]]
        return np.where(hot.max(axis=1) > 0, np.array([c[2:] for c in op_cols])[hot.argmax(axis=1)], "")

    def _fit(self, X, y):
        frame = pd.DataFrame(X, columns=self.feature_names)
        ops = self._ops(X)
        self.models = {"*": MODELS[self.base]().fit(frame, y)}
        for op in np.unique(ops):
            rows = ops == op
            if op and rows.sum() >= self.min_rows:
                self.models[op] = MODELS[self.base]().fit(frame[rows], y[rows])

    def _predict(self, X):
        frame = pd.DataFrame(X, columns=self.feature_names)
        mean, std = self.models["*"].predict(frame)
        ops = self._ops(X)
        for op, model in self.models.items():
            rows = ops == op
            if op != "*" and rows.any():
                mean[rows], std[rows] = model.predict(frame[rows])
        return mean, std

    def _state(self):
        return {"base": self.base, "min_rows": self.min_rows,
                "models": {op: m.to_json() for op, m in self.models.items()}}

    def _load(self, s):
        self.base, self.min_rows = s["base"], s["min_rows"]
        self.models = {op: LatencyModel.from_json(m) for op, m in s["models"].items()}


def create(name: str) -> LatencyModel:
    """A fresh model by name: xgb, rf, roofline, lookup, flops, or per_op[-<base>]."""
    if name.startswith("per_op"):
        base = name.partition("-")[2] or "xgb"
        if base not in MODELS or base == "per_op":
            raise ValueError(f"unknown per-op base model {base!r}")
        return PerOpModel(base)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)} or per_op-<base>")
    return MODELS[name]()
