#!/usr/bin/env python3
"""A predictor for `mv serve`: a linear model y = X @ coef + intercept whose weights were
registered with `mv add`. It speaks the JSON-lines protocol of docs/SERVING.md:

  - mv starts it in the version's serve/ folder, with MV_MODEL_DIR naming the exported
    version (model.yaml, params/*.npy, eval/, serve/);
  - it loads what it needs, then prints {"ready": true};
  - for each request line {"id": N, "columns": [...], "rows": [[...], ...]} it prints one
    line {"id": N, "predictions": [...]} (one per row), or {"id": N, "error": "why"} for
    rows it cannot use, which the client gets as a 400.

    mv add lin --weights weights/ --serve-command 'python3 predict.py' --serve-file predict.py
"""
import json
import os
import sys

import numpy as np

folder = os.environ["MV_MODEL_DIR"]
coef = np.load(os.path.join(folder, "params", "coef.npy")).reshape(-1)
intercept = float(np.load(os.path.join(folder, "params", "intercept.npy")).reshape(-1)[0])
print(json.dumps({"ready": True}), flush=True)

for line in sys.stdin:
    request = json.loads(line)
    try:
        rows = np.asarray(request["rows"], dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != coef.shape[0]:
            raise ValueError(f"expected rows of {coef.shape[0]} numbers, got shape {list(rows.shape)}")
        answer = {"id": request["id"], "predictions": (rows @ coef + intercept).tolist()}
    except (ValueError, TypeError) as error:
        answer = {"id": request["id"], "error": str(error)}
    print(json.dumps(answer), flush=True)
