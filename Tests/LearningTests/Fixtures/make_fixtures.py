#!/usr/bin/env python3
"""Generates the scikit-learn reference fixtures for LearningTests.

Run from anywhere with scikit-learn installed (pip install scikit-learn); it rewrites the
CSV and JSON files next to this script. The Swift tests only read the outputs, so
scikit-learn is not needed at test time.
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240606)


def write_json(name, payload):
    payload = {"sklearn": sklearn.__version__, **payload}
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


def write_csv(name, header, X, y, fmt="%.6g"):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(",".join(header) + "\n")
        for row, target in zip(X, y):
            f.write(",".join(fmt % v for v in row) + "," + str(target) + "\n")


def read_back(name):
    # Reread what was written so scikit-learn sees exactly the parsed decimal values.
    data = np.genfromtxt(os.path.join(HERE, name), delimiter=",", skip_header=1, dtype=str)
    return data[:, :-1].astype(float), data[:, -1]


def lst(a):
    return np.asarray(a, dtype=float).tolist()


# Metrics on fixed predictions: scores with ties, a binary and a 3-class problem.
yb = rng.integers(0, 2, 60)
score = np.round(np.clip(yb * 0.3 + rng.uniform(0, 0.7, 60), 0, 1), 1)  # rounding makes ties
predb = (score >= 0.5).astype(int)
ym = rng.integers(0, 3, 90)
logits = rng.normal(size=(90, 3)) + np.eye(3)[ym] * 1.2
proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
proba = np.round(proba, 2)
proba[:, 2] = 1 - proba[:, 0] - proba[:, 1]
proba = np.clip(proba, 0, 1)
predm = proba.argmax(1)
score[0] = 0.0 if yb[0] == 1 else 1.0  # a confident mistake exercises log-loss clipping
probb = np.column_stack([1 - score, score])
write_json("metrics.json", {
    "binary": {
        "y_true": yb.tolist(), "y_pred": predb.tolist(), "score": lst(score), "proba": lst(probb),
        "accuracy": metrics.accuracy_score(yb, predb),
        "precision": metrics.precision_score(yb, predb),
        "recall": metrics.recall_score(yb, predb),
        "f1": metrics.f1_score(yb, predb),
        "roc_auc": metrics.roc_auc_score(yb, probb[:, 1]),
        "log_loss": metrics.log_loss(yb, probb),
        "confusion": metrics.confusion_matrix(yb, predb).tolist(),
    },
    "multiclass": {
        "y_true": ym.tolist(), "y_pred": predm.tolist(), "proba": lst(proba),
        "accuracy": metrics.accuracy_score(ym, predm),
        "precision_macro": metrics.precision_score(ym, predm, average="macro"),
        "recall_macro": metrics.recall_score(ym, predm, average="macro"),
        "f1_macro": metrics.f1_score(ym, predm, average="macro"),
        "precision_weighted": metrics.precision_score(ym, predm, average="weighted"),
        "recall_weighted": metrics.recall_score(ym, predm, average="weighted"),
        "f1_weighted": metrics.f1_score(ym, predm, average="weighted"),
        "roc_auc_ovr": metrics.roc_auc_score(ym, proba, multi_class="ovr", average="macro"),
        "log_loss": metrics.log_loss(ym, proba),
        "confusion": metrics.confusion_matrix(ym, predm).tolist(),
    },
})

# Regression: OLS and ridge.
X = rng.normal(size=(120, 4)) * [1.0, 3.0, 0.5, 10.0] + [0, 5, -2, 100]
y = X @ [1.5, -0.7, 3.0, 0.02] + 4 + rng.normal(scale=0.5, size=120)
write_csv("regression.csv", ["x1", "x2", "x3", "x4", "y"], X, ["%.6g" % v for v in y])
X, y = read_back("regression.csv")
y = y.astype(float)
ols = LinearRegression().fit(X, y)
ridge = Ridge(alpha=2.5).fit(X, y)
write_json("linear.json", {
    "ols": {"coef": lst(ols.coef_), "intercept": float(ols.intercept_)},
    "ridge": {"alpha": 2.5, "coef": lst(ridge.coef_), "intercept": float(ridge.intercept_)},
})

# Logistic regression: binary with string labels, multinomial with three classes.
X = rng.normal(size=(150, 4))
z = X @ [1.2, -0.8, 0.5, 0.0] + 0.3 + rng.logistic(size=150) * 0.8
labels = np.where(z > 0, "yes", "no")
write_csv("binary.csv", ["a", "b", "c", "d", "label"], X, labels)
Xb, yb = read_back("binary.csv")
lr_b = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(Xb, yb)
X = rng.normal(size=(180, 3))
W = np.array([[1.5, -1.0, 0.2], [-0.5, 1.2, 0.8], [-1.0, -0.2, -1.0]])
logit = X @ W.T + rng.gumbel(size=(180, 3))
cls = np.array(["cat", "bird", "dog"])[logit.argmax(1)]
write_csv("multiclass.csv", ["u", "v", "w", "species"], X, cls)
Xm, ym = read_back("multiclass.csv")
lr_m = LogisticRegression(C=2.0, tol=1e-10, max_iter=10000).fit(Xm, ym)
write_json("logistic.json", {
    "binary": {"C": 0.5, "classes": lr_b.classes_.tolist(), "coef": lst(lr_b.coef_),
               "intercept": lst(lr_b.intercept_), "proba": lst(lr_b.predict_proba(Xb[:20]))},
    "multinomial": {"C": 2.0, "classes": lr_m.classes_.tolist(), "coef": lst(lr_m.coef_),
                    "intercept": lst(lr_m.intercept_), "proba": lst(lr_m.predict_proba(Xm[:20]))},
})

# Trees: features on a 1/64 grid are exact in float32 (scikit-learn's tree dtype) and in
# CSV text, so thresholds and comparisons agree bit for bit with mv's Doubles.
n_train = 160
X = np.round(rng.normal(size=(200, 4)) * 2 * 64) / 64
yc = ((X[:, 0] + 0.5 * X[:, 1] ** 2 - X[:, 2] + rng.normal(scale=1.0, size=200)) > 1).astype(int)
yc = yc + (X[:, 3] > 1.5).astype(int)  # three classes
write_csv("tree_classification.csv", ["f1", "f2", "f3", "f4", "y"], X, yc, fmt="%.8g")
yr = np.round(np.sin(X[:, 0]) * 3 + X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=200), 4)
write_csv("tree_regression.csv", ["f1", "f2", "f3", "f4", "y"], X, ["%.4f" % v for v in yr], fmt="%.8g")
Xc, yc = read_back("tree_classification.csv")
yc = yc.astype(int)
Xr, yr = read_back("tree_regression.csv")
yr = yr.astype(float)
tree_params = {"max_depth": 4, "min_samples_leaf": 5, "min_samples_split": 10}
trees = {}
for name, model in [
    ("gini", DecisionTreeClassifier(criterion="gini", random_state=0, **tree_params)),
    ("entropy", DecisionTreeClassifier(criterion="entropy", random_state=0, **tree_params)),
]:
    model.fit(Xc[:n_train], yc[:n_train])
    trees[name] = {"predictions": model.predict(Xc).tolist(), "nodes": int(model.tree_.node_count)}
    if name == "gini":  # one probability table is enough, and keeps the file small
        trees[name]["proba"] = lst(model.predict_proba(Xc))
# Fully grown trees (scikit-learn defaults): small nodes tie often, so these also check that
# mv tries features in scikit-learn's random order for random_state=0.
full_c = DecisionTreeClassifier(random_state=0).fit(Xc[:n_train], yc[:n_train])
full_r = DecisionTreeRegressor(random_state=0).fit(Xr[:n_train], yr[:n_train])
trees["full"] = {"classification": full_c.predict(Xc).tolist(), "regression": lst(full_r.predict(Xr)),
                 "nodes": [int(full_c.tree_.node_count), int(full_r.tree_.node_count)]}
reg = DecisionTreeRegressor(random_state=0, **tree_params).fit(Xr[:n_train], yr[:n_train])
trees["regression"] = {"predictions": lst(reg.predict(Xr)), "nodes": int(reg.tree_.node_count)}
# Forests draw other random numbers than mv's, and one seed's score on 40 rows spreads by
# ±0.06, so the reference is the mean over seeds 0-9 (mv's test averages its seeds 0-9).
accuracies = [metrics.accuracy_score(yc[n_train:], RandomForestClassifier(n_estimators=100, random_state=s)
                                     .fit(Xc[:n_train], yc[:n_train]).predict(Xc[n_train:])) for s in range(10)]
r2s = [metrics.r2_score(yr[n_train:], RandomForestRegressor(n_estimators=100, random_state=s)
                        .fit(Xr[:n_train], yr[:n_train]).predict(Xr[n_train:])) for s in range(10)]
write_json("trees.json", {
    "n_train": n_train, "params": tree_params, **trees,
    "forest": {"accuracy_mean": float(np.mean(accuracies)), "r2_mean": float(np.mean(r2s)), "seeds": 10},
})
if os.environ.get("SHOW_TREES"):
    from sklearn.tree import export_text
    m = DecisionTreeClassifier(criterion="gini", random_state=0, **tree_params).fit(Xc[:n_train], yc[:n_train])
    print(export_text(m, decimals=6, show_weights=True))
print("fixtures written to", HERE)
