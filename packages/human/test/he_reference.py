"""Independent reference for `empo human analyze` on he_data.csv: pandas + scipy, as the study's notebook did."""
import json
import sys

import numpy as np
import pandas as pd
from scipy import stats

dims = ["Dim1", "Dim2", "Dim3", "Dim4", "Dim5"]
d = pd.read_csv(sys.argv[1])
g = d.groupby(["model", "ED_index"])[dims].mean().reset_index()
out = {"conditions": {}, "pairs": [], "alpha": {}}
for m, part in g.groupby("model"):
    out["conditions"][m] = {k: {"mean": float(part[k].mean()), "sd": float(part[k].std(ddof=1)), "n": int(len(part))} for k in dims}
models = sorted(g.model.unique())
for dim in dims[:4]:
    for a in models:
        for b in models:
            if a == b:
                continue
            A = g[g.model == a].sort_values("ED_index")[dim].to_numpy()
            B = g[g.model == b].sort_values("ED_index")[dim].to_numpy()
            t, p = stats.ttest_rel(A, B, alternative="greater")
            n = len(A)
            dd = (A.mean() - B.mean()) / np.sqrt(((n - 1) * A.var(ddof=1) + (n - 1) * B.var(ddof=1)) / (2 * n - 2))
            out["pairs"].append({"dim": dim, "a": a, "b": b, "t": float(t), "p": float(p), "d": float(dd)})
# Krippendorff's interval alpha from its coincidence-matrix definition (values as categories).
for dim in dims:
    units = [grp[dim].to_numpy(dtype=float) for _, grp in d.groupby(["model", "ED_index"])]
    values = sorted(set(np.concatenate(units)))
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for u in units:
        m = len(u)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[index[u[i]], index[u[j]]] += 1 / (m - 1)
    nc = o.sum(axis=1)
    n = nc.sum()
    v = np.array(values)
    delta = (v[:, None] - v[None, :]) ** 2
    do = (o * delta).sum() / n
    de = (np.outer(nc, nc) * delta).sum() / (n * (n - 1))
    out["alpha"][dim] = float(1 - do / de)
print(json.dumps(out))
