#!/usr/bin/env python3
"""An independent implementation of the drift statistics of `mv monitor`, written from
docs/MONITORING.md §1–§3, used as a judge of mv's numbers.

    python3 monitor_reference.py REFERENCE_YAML CURRENT_CSV MV_JSON [--reference-csv TRAIN_ROWS_CSV]
                                 [--and REFERENCE_YAML CURRENT_CSV MV_JSON [...]]...

REFERENCE_YAML is the version's models/<m>/reference.yaml, CURRENT_CSV the rows given to
`mv monitor --data`, MV_JSON what `mv monitor … --no-commit --json` printed. Every feature
column of the reference is recomputed (predictions are not: they need the model) and
compared with mv's figures (relative tolerance 1e-6, absolute 1e-9 near zero); one line per
mismatch, exit status 1 on any. The chi-square and Jensen–Shannon figures are also checked
with scipy.stats.chisquare and scipy.spatial.distance.jensenshannon on the documented counts.

With --reference-csv (the exact training rows), the reference profile itself is rebuilt
from those rows (§1), and mv's KS statistic is checked against scipy.stats.ks_2samp on the
raw values (ks ≤ exact ≤ ks + ks_bound); how far mv's KS p-value and normalised
Wasserstein distance are from scipy's is reported, not judged.

`--and` judges further reports in the same run (python and scipy start once).
"""

import argparse
import bisect
import csv
import json
import math
import sys

import numpy as np
import scipy.spatial.distance
import scipy.special
import scipy.stats
import yaml

MISSING = {"", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL"}
FLOOR = 0.0001  # Evidently's floor for empty shares (PSI, chi-square expected shares)
FEW_VALUES = 5  # a numeric column with at most this many distinct values (both sides) is categories
MORE_LIMIT = 10_000  # distinct current labels counted by name; the rest go to (more)
REL, ABS = 1e-6, 1e-9


def is_missing(token):
    return token.strip() in MISSING


def close(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(REL * max(abs(a), abs(b)), ABS)


def round10(x):
    """x to 10 significant digits (the quantiles of §1)."""
    return x if x == 0 or not math.isfinite(x) else float("%.10g" % x)


# ---------------------------------------------------------------------------------------
# Reading the data


def read_columns(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], [r for r in rows[1:] if r]
    return {name: [r[i] if i < len(r) else "" for r in body] for i, name in enumerate(header)}, len(body)


def numeric_values(tokens):
    present = [t for t in tokens if not is_missing(t)]
    return [float(t.strip()) for t in present], len(tokens) - len(present)


def labels(tokens):
    # Labels are compared with spaces trimmed (as mv reads them; the doc only says so of
    # the missing tokens).
    present = [t.strip() for t in tokens if not is_missing(t)]
    return present, len(tokens) - len(present)


# ---------------------------------------------------------------------------------------
# Distances over two count vectors


def psi(ref_shares, cur_shares):
    total = 0.0
    for r, c in zip(ref_shares, cur_shares):
        r = r if r > 0 else FLOOR
        c = c if c > 0 else FLOOR
        total += (c - r) * math.log(c / r)
    return total


def kl(p, m):
    return sum(a * math.log(a / b) for a, b in zip(p, m) if a > 0)


def jensen_shannon(ref_shares, cur_shares):
    m = [(r + c) / 2 for r, c in zip(ref_shares, cur_shares)]
    return math.sqrt(max((kl(ref_shares, m) + kl(cur_shares, m)) / 2, 0.0))


def chi_square(ref_shares, observed):
    """Σ (o − e)² / e, e = n_C · r̃ (empty reference shares floored, renormalised)."""
    floored = [r if r > 0 else FLOOR for r in ref_shares]
    total = sum(floored)
    n = sum(observed)
    expected = [n * r / total for r in floored]
    statistic = sum((o - e) ** 2 / e for o, e in zip(observed, expected))
    dof = len(observed) - 1
    p = float(scipy.special.gammaincc(dof / 2, statistic / 2)) if dof > 0 else 1.0
    return statistic, dof, p, expected


def kolmogorov_q(lam):
    """Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²), summed in whichever of its two equal forms
    converges at λ (the theta-function form 1 − √(2π)/λ Σ exp(−(2k−1)²π²/(8λ²)) below 1)."""
    if lam <= 0:
        return 1.0
    if lam < 1.0:
        k_cdf = math.sqrt(2 * math.pi) / lam * sum(
            math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * lam * lam)) for k in range(1, 50))
        return min(max(1.0 - k_cdf, 0.0), 1.0)
    q = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(max(q, 0.0), 1.0)


def ks_p_value(d, n_r, n_c):
    e = n_r * n_c / (n_r + n_c)
    se = math.sqrt(e)
    return kolmogorov_q((se + 0.12 + 0.11 / se) * d)


# ---------------------------------------------------------------------------------------
# A numeric column counted in its reference cells (§2)


class Cells:
    """below, at[0], between[0], at[1], …, at[k−1], above: counts on both sides."""

    def __init__(self, sketch, values):
        self.points = points = sketch["points"]
        self.gap_areas = sketch["gap_areas"]
        k = len(points)
        self.ref = [0] + [x for j in range(k) for x in ([sketch["at"][j]] + ([sketch["between"][j]] if j < k - 1 else []))] + [0]
        self.cur = [0] * len(self.ref)
        self.members = [[] for _ in self.ref]  # current values of each cell
        for x in values:
            i = bisect.bisect_left(points, x)
            if i < k and points[i] == x:
                cell = 1 + 2 * i
            elif i == 0:
                cell = 0
            elif i == k:
                cell = len(self.ref) - 1
            else:
                cell = 2 * i  # between points[i−1] and points[i]
            self.cur[cell] += 1
            self.members[cell].append(x)
        self.n_r, self.n_c = sum(self.ref), len(values)

    def is_between(self, cell):
        return 0 < cell < len(self.ref) - 1 and cell % 2 == 0

    def shares(self):
        return [c / self.n_r for c in self.ref], [c / self.n_c for c in self.cur]

    def ks(self):
        cum_r = cum_c = 0
        d = 0.0
        for r, c in zip(self.ref, self.cur):
            cum_r += r
            cum_c += c
            d = max(d, abs(cum_r / self.n_r - cum_c / self.n_c))
        # §2: inside a between-cell F_R − F_C can pass the larger of its two ends by at most
        # the smaller of the two shares.
        bound = max(
            (min(self.ref[i] / self.n_r, self.cur[i] / self.n_c) for i in range(len(self.ref)) if self.is_between(i)),
            default=0.0)
        return d, bound

    def wasserstein(self):
        """∫|F_R − F_C| dx: exact outside the points; inside a between-cell both areas come from
        the sums of the values there (the reference's stored as gap_areas)."""
        points, n_r, n_c = self.points, self.n_r, self.n_c
        area = sum(points[0] - x for x in self.members[0]) / n_c
        area += sum(x - points[-1] for x in self.members[-1]) / n_c
        cum_r = cum_c = 0
        for cell in range(len(self.ref) - 1):
            if self.is_between(cell):
                j = cell // 2  # between points[j−1] and points[j]
                a, b = points[j - 1], points[j]
                w = b - a
                fr_a, fc_a = cum_r / n_r, cum_c / n_c
                fr_b, fc_b = (cum_r + self.ref[cell]) / n_r, (cum_c + self.cur[cell]) / n_c
                int_r = fr_a * w + self.gap_areas[j - 1]
                int_c = fc_a * w + sum(b - x for x in self.members[cell]) / n_c
                d_a, d_b = fr_a - fc_a, fr_b - fc_b
                # The signs from the integer counts, so that F_R = F_C (say 30/3000 and 20/2000)
                # is a zero, never a rounding residue of either sign.
                s_a = sign(cum_r * n_c - cum_c * n_r)
                s_b = sign((cum_r + self.ref[cell]) * n_c - (cum_c + self.cur[cell]) * n_r)
                if s_a * s_b < 0:
                    area += w * (d_a * d_a + d_b * d_b) / (2 * (abs(d_a) + abs(d_b)))
                else:
                    area += abs(int_r - int_c)
            cum_r += self.ref[cell]
            cum_c += self.cur[cell]
        return area


def sign(x):
    return (x > 0) - (x < 0)


def psi_bins(sketch, values):
    edges = sketch["psi_bins"]["edges"]
    counts = [0] * (len(edges) + 1)
    for x in values:
        counts[bisect.bisect_right(edges, x)] += 1
    return sketch["psi_bins"]["shares"], [c / len(values) for c in counts]


# ---------------------------------------------------------------------------------------
# Categories (§2, "Categories")


def category_counts(column, current):
    """Keys, reference counts, current counts and the unseen current labels (in order of
    first appearance), in the doc's order: the stored categories, then (other) when the
    reference counted values outside them (every current value outside the stored ones goes
    there), else each unseen label on its own, then (more) when the current data had more
    than 10,000 distinct labels. Read here: a stored category is always counted under its
    own key; the values of labels past the first 10,000 distinct ones are "the rest"."""
    stored = [(str(label), count) for label, count in (column.get("categories") or {}).items()]
    keys = [label for label, _ in stored]
    ref = [count for _, count in stored]
    index = {label: i for i, label in enumerate(keys)}
    cur = [0] * len(keys)
    other = column.get("other", 0)
    outside = {}  # label → count, for the first 10,000 distinct labels
    tracked = set()
    rest = 0
    for label in current:
        if label in index:
            cur[index[label]] += 1
            tracked.add(label)
        elif label in outside or len(tracked) < MORE_LIMIT:
            outside[label] = outside.get(label, 0) + 1
            tracked.add(label)
        else:
            rest += 1
    if other > 0:
        keys.append("(other)")
        ref.append(other)
        cur.append(sum(outside.values()))
    else:
        for label, n in outside.items():
            keys.append(label)
            ref.append(0)
            cur.append(n)
    if rest:
        keys.append("(more)")
        ref.append(0)
        cur.append(rest)
    return keys, ref, cur, outside, rest


def number_key(x):
    """A numeric value as a category label (1 and 1.0 are one category)."""
    return repr(float(x))


# ---------------------------------------------------------------------------------------
# One column


def expected_column(column, tokens, rows, options):
    kind, name = column["type"], column["name"]
    out = {"name": name, "type": kind}
    n_ref = column["count"]
    out["reference_missing"] = column["missing"] / (column["count"] + column["missing"]) if column["count"] + column["missing"] else 0.0
    extra = {}
    if kind == "numeric":
        values, missing = numeric_values(tokens)
        out["missing"] = missing / rows if rows else 0.0
        out["rows"] = len(values)
        if not values or n_ref == 0:
            return out, extra
        sketch = column
        cells = Cells(sketch, values)
        out["ks"], out["ks_bound"] = cells.ks()
        out["ks_p"] = ks_p_value(out["ks"], cells.n_r, cells.n_c)
        out["wasserstein"] = cells.wasserstein() / max(sketch["std"], 0.001)
        out["out_of_range"] = sum(1 for x in values if x < sketch["min"] or x > sketch["max"]) / len(values)
        out["current"] = {"mean": float(np.mean(values)), "std": float(np.std(values)), "min": min(values), "max": max(values)}
        distinct = sketch.get("values")
        # Few distinct values in reference and current together (§3): compared as categories.
        few = distinct is not None and len({float(v) for v, _ in distinct} | set(values)) <= FEW_VALUES
        extra["cells"] = cells
        if few:
            # Compared as categories over its values.
            ref_keys = [number_key(v) for v, _ in distinct]
            as_column = {"categories": {k: c for k, (_, c) in zip(ref_keys, distinct)}, "other": 0}
            keys, ref, cur, outside, _ = category_counts(as_column, [number_key(x) for x in values])
            r_sh, c_sh = [c / n_ref for c in ref], [c / len(values) for c in cur]
            out["psi"] = psi(r_sh, c_sh)
            out["jensenshannon"] = jensen_shannon(r_sh, c_sh)
            out["chisquare"], out["chisquare_dof"], out["chisquare_p"], expected = chi_square(r_sh, cur)
            extra.update(categories=(keys, ref, cur, expected), js_shares=(r_sh, c_sh))
            z_test(ref, cur, out)
            # psi and jensenshannon over the cells / bins, to tell which reading mv follows
            extra["alt_psi"] = psi(*psi_bins(sketch, values))
            extra["alt_jensenshannon"] = jensen_shannon(*cells.shares())
        else:
            out["psi"] = psi(*psi_bins(sketch, values))
            out["jensenshannon"] = jensen_shannon(*cells.shares())
            extra["js_shares"] = cells.shares()
        categorical_test = few
    else:
        present, missing = labels(tokens)
        out["missing"] = missing / rows if rows else 0.0
        out["rows"] = len(present)
        if not present or n_ref == 0:
            return out, extra
        keys, ref, cur, outside, rest = category_counts(column, present)
        r_sh, c_sh = [c / n_ref for c in ref], [c / len(present) for c in cur]
        out["psi"] = psi(r_sh, c_sh)
        out["jensenshannon"] = jensen_shannon(r_sh, c_sh)
        out["chisquare"], out["chisquare_dof"], out["chisquare_p"], expected = chi_square(r_sh, cur)
        extra.update(categories=(keys, ref, cur, expected), js_shares=(r_sh, c_sh))
        z_test(ref, cur, out)
        if column.get("other", 0) > 0:
            # The reference named only its top categories: a label outside them may be one it saw.
            out["unseen"] = 0.0
            extra["unseen_if_outside"] = sum(outside.values()) / len(present)
        else:
            out["unseen"] = (sum(outside.values()) + rest) / len(present)
            extra["unseen_labels"] = list(outside)
        categorical_test = True

    big = n_ref > 1000
    if categorical_test:
        two = "z_p" in out
        test = options.categorical_test or ("jensenshannon" if big else "ztest" if two else "chisquare")
        if test == "ztest" and not two:
            raise SystemExit(f"{name}: --categorical-test ztest, but the column has {len(extra['categories'][0])} categories")
    else:
        test = options.numeric_test or ("wasserstein" if big else "ks")
    out["test"] = test
    score = out[{"chisquare": "chisquare_p", "ks": "ks_p", "ztest": "z_p"}.get(test, test)]
    out["score"] = score
    # As Evidently: KS drifts at p ≤ threshold, chi-square and z at p < threshold, distances at ≥.
    if test == "ks":
        out["threshold"], out["drifted"] = options.p_value, score <= options.p_value
    elif test in ("chisquare", "ztest"):
        out["threshold"], out["drifted"] = options.p_value, score < options.p_value
    else:
        out["threshold"], out["drifted"] = options.distance, score >= options.distance
    return out, extra


def z_test(ref, cur, out):
    """Two categories: z = (p_R − p_C) / sqrt(P(1 − P)(1/n_R + 1/n_C)) with p the share of the
    first category on each side and P the pooled share; p = erfc(|z| / √2)."""
    if len(ref) != 2:
        return
    n_r, n_c = sum(ref), sum(cur)
    p_r, p_c = ref[0] / n_r, cur[0] / n_c
    pooled = (ref[0] + cur[0]) / (n_r + n_c)
    variance = pooled * (1 - pooled) * (1 / n_r + 1 / n_c)
    if variance > 0:
        out["z"] = (p_r - p_c) / math.sqrt(variance)
        out["z_p"] = math.erfc(abs(out["z"]) / math.sqrt(2))
    else:  # one category holds every value on both sides: the shares are equal
        out["z_p"] = 1.0


# ---------------------------------------------------------------------------------------
# The reference profile rebuilt from the training rows (§1)


def expected_profile(column, tokens):
    out = {}
    if column["type"] == "numeric":
        values, missing = numeric_values(tokens)
        out["count"], out["missing"] = len(values), missing
        if not values:
            return out
        x = np.sort(np.array(values))
        n = len(x)
        out.update(min=float(x[0]), max=float(x[-1]), mean=float(np.mean(x)), std=float(np.std(x)))
        quantiles = [round10(float(np.quantile(x, k / 100))) for k in range(101)]
        # q0 and q100 are the minimum and the maximum themselves: rounded, one of them could
        # fall inside the data and leave its extreme values in no cell, and §1 counts every
        # value once (Σ at + Σ between = count).
        quantiles[0], quantiles[-1] = float(x[0]), float(x[-1])
        out["quantiles"] = quantiles
        # §1: a column of at most 1000 values keeps every distinct value as a point.
        points = sorted(set(x.tolist())) if n <= 1000 else sorted(set(quantiles))
        out["points"] = points
        out["at"] = [int(np.searchsorted(x, p, "right") - np.searchsorted(x, p, "left")) for p in points]
        out["between"] = [int(np.searchsorted(x, b, "left") - np.searchsorted(x, a, "right")) for a, b in zip(points, points[1:])]
        # §1: Σ (b − x) / count over the values strictly between consecutive points a < b.
        out["gap_areas"] = [float(np.sum(b - x[np.searchsorted(x, a, "right"):np.searchsorted(x, b, "left")])) / n
                            for a, b in zip(points, points[1:])]
        edges = []
        for k in range(1, 10):
            e = quantiles[10 * k]
            if e > x[0] and (not edges or e > edges[-1]):
                edges.append(e)
        bins = np.bincount(np.searchsorted(edges, x, "right"), minlength=len(edges) + 1)
        out["psi_bins"] = {"edges": edges, "shares": [float(b) / n for b in bins]}
        distinct, counts = np.unique(x, return_counts=True)
        if len(distinct) <= 20:
            out["values"] = [[float(v), int(c)] for v, c in zip(distinct, counts)]
    else:
        present, missing = labels(tokens)
        out["count"], out["missing"] = len(present), missing
        counts = {}
        for label in present:
            counts[label] = counts.get(label, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out["categories"] = [[k, v] for k, v in ordered[:50]]
        out["other"] = sum(v for _, v in ordered[50:])
        out["distinct"] = len(counts)
    return out


def check_sketch(label, column, report):
    """What §1 says of every numeric sketch, whatever rows it came from."""
    if column["type"] != "numeric" or not column["count"]:
        return
    total = sum(column["at"]) + sum(column["between"])
    if total != column["count"]:
        report(f"{label}: reference.yaml Σ at + Σ between = {total}, count = {column['count']} "
               f"(§1: every value is counted once); min {column['min']!r} max {column['max']!r} "
               f"points[0] {column['points'][0]!r} points[-1] {column['points'][-1]!r}")
    quantiles, points = column["quantiles"], column["points"]
    if column["count"] > 1000:
        wrong = points != sorted(set(quantiles))
    else:  # every distinct value is a point: nothing lies between two
        wrong = points != sorted(set(points)) or any(column["between"])
    if len(quantiles) != 101 or wrong:
        report(f"{label}: reference.yaml points are not the distinct quantiles q0…q100 "
               f"(or, for at most 1000 values, every distinct value)")
    if quantiles and (quantiles[0] != column["min"] or quantiles[-1] != column["max"]):
        report(f"{label}: reference.yaml q0 = {quantiles[0]!r}, q100 = {quantiles[-1]!r}, "
               f"but min = {column['min']!r}, max = {column['max']!r}")
    if len(column["at"]) != len(points) or len(column["between"]) != len(points) - 1:
        report(f"{label}: reference.yaml needs one 'at' per point and one 'between' fewer")
    shares = column["psi_bins"]["shares"]
    if len(shares) != len(column["psi_bins"]["edges"]) + 1 or abs(sum(shares) - 1) > 1e-9:
        report(f"{label}: reference.yaml psi_bins: {len(shares)} shares summing to {sum(shares)!r}")


def compare_profile(column, expected, report):
    name = column["name"]
    for key, want in expected.items():
        got = column.get(key)
        if key == "categories":
            got = [[str(k), v] for k, v in (got or {}).items()]
        if not same(got, want):
            where = ""
            if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
                i = next(i for i, (a, b) in enumerate(zip(got, want)) if not same(a, b))
                where = f" (first difference at [{i}]: {got[i]!r} vs {want[i]!r})"
            report(f"{name}: reference.yaml {key} = {short(got)}, §1 from the training rows gives {short(want)}{where}")


def same(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return close(float(a), float(b))
    return a == b


def short(value):
    text = repr(value)
    return text if len(text) < 120 else text[:120] + "…"


# ---------------------------------------------------------------------------------------


def main():
    groups, group = [], []
    for argument in sys.argv[1:]:
        if argument == "--and":
            groups.append(group)
            group = []
        else:
            group.append(argument)
    groups.append(group)
    statuses = []
    for arguments in groups:
        if len(groups) > 1:
            print(f"== {' '.join(arguments)}")
        statuses.append(judge(arguments))
    return max(statuses)


def judge(arguments):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="monitor_reference.py")
    parser.add_argument("reference_yaml")
    parser.add_argument("current_csv")
    parser.add_argument("mv_json")
    parser.add_argument("--reference-csv", help="the exact training rows, for the scipy checks on raw data")
    parser.add_argument("--p-value", type=float, default=0.05)
    parser.add_argument("--distance", type=float, default=0.1)
    parser.add_argument("--drift-share", type=float, default=0.5)
    parser.add_argument("--numeric-test", choices=["ks", "wasserstein"])
    parser.add_argument("--categorical-test", choices=["chisquare", "jensenshannon", "ztest"])
    parser.add_argument("--quiet", action="store_true", help="print only mismatches and the summary")
    options = parser.parse_args(arguments)

    text = open(options.reference_yaml).read()
    reference = yaml.safe_load(text)
    # Category labels as written (PyYAML would read `yes` or `1` as a bool or a number).
    raw = yaml.load(text, Loader=yaml.BaseLoader)
    for column, raw_column in zip(reference["columns"], raw["columns"]):
        if column["type"] == "categorical":
            column["categories"] = {label: int(count) for label, count in (raw_column.get("categories") or {}).items()}
    current, rows = read_columns(options.current_csv)
    mismatches = []
    compared = 0

    def mismatch(text):
        mismatches.append(text)
        print("MISMATCH " + text)

    def info(text):
        if not options.quiet:
            print(text)

    for column in reference["columns"]:
        check_sketch(column["name"], column, mismatch)
    if reference.get("predictions"):
        check_sketch("predictions", reference["predictions"], mismatch)

    training = None
    if options.reference_csv:
        training, _ = read_columns(options.reference_csv)
        for column in reference["columns"]:
            if column["name"] in training:
                compare_profile(column, expected_profile(column, training[column["name"]]), mismatch)

    try:
        report_json = json.load(open(options.mv_json))
    except (OSError, ValueError) as error:
        mismatch(f"{options.mv_json}: no JSON report from mv ({error})")
        print(f"summary: {len(mismatches)} mismatches (the reference profile checked only)")
        return 1
    features = {f["name"]: f for f in report_json.get("features", [])}
    if report_json.get("data", {}).get("rows") not in (None, rows):
        mismatch(f"data.rows: mv {report_json['data']['rows']}, the CSV has {rows}")
    drifted = 0
    names = [c["name"] for c in reference["columns"]]
    ks_p_differences, wasserstein_errors = [], []
    for column in reference["columns"]:
        name = column["name"]
        if name not in current:
            mismatch(f"{name}: not in {options.current_csv}")
            continue
        want, extra = expected_column(column, current[name], rows, options)
        got = features.get(name)
        if got is None:
            mismatch(f"{name}: not among mv's features")
            continue
        for key, value in want.items():
            if key not in got:
                mismatch(f"{name}.{key}: missing from mv's JSON (expected {value!r})")
                continue
            compared += 1
            if key == "current":
                for sub, v in value.items():
                    if not close(got[key].get(sub), v):
                        mismatch(f"{name}.current.{sub}: mv {got[key].get(sub)!r}, expected {v!r}")
            elif not close(got[key], value):
                note = ""
                if key in ("psi", "jensenshannon") and f"alt_{key}" in extra:
                    note = f" (over the cells/bins instead of the categories: {extra['alt_' + key]!r})"
                mismatch(f"{name}.{key}: mv {got[key]!r}, expected {value!r}{note}")
        if want.get("rows") == 0:
            # §1–§3 define no statistic without a current value; mv's figures are not judged.
            info(f"note {name}: every current value is missing; mv: drifted {got.get('drifted')!r}, "
                 f"psi {got.get('psi')!r}, ks {got.get('ks')!r}, chisquare_p {got.get('chisquare_p')!r}")
        for key in ("ks", "ks_p", "wasserstein", "chisquare", "chisquare_p", "z", "z_p", "unseen"):
            if want.get("rows") != 0 and got.get(key) is not None and key not in want:
                mismatch(f"{name}.{key}: mv reports {got[key]!r}, the doc gives no such figure for this column")
        if "unseen_labels" in extra:
            # "the first 10 of them": which ten the doc leaves open; every one must be unseen.
            unseen, listed = extra["unseen_labels"], list(got.get("unseen_categories", []))
            if len(listed) != min(len(unseen), 10) or not set(listed) <= set(unseen):
                mismatch(f"{name}.unseen_categories: mv {listed!r}, the unseen labels are {sorted(unseen)[:20]!r} ({len(unseen)})")
        if "unseen_if_outside" in extra:
            info(f"note {name}: the reference kept {len(column.get('categories') or {})} of {column['distinct']} categories; "
                 f"{extra['unseen_if_outside']:.4f} of the current values are outside them (mv's unseen: {got.get('unseen')!r})")
        if want.get("drifted", got.get("drifted")):
            drifted += 1

        # scipy on the counts the doc defines
        if "js_shares" in extra and "jensenshannon" in got:
            r_sh, c_sh = extra["js_shares"]
            js = float(scipy.spatial.distance.jensenshannon(r_sh, c_sh))
            if not close(got["jensenshannon"], js):
                mismatch(f"{name}.jensenshannon: mv {got['jensenshannon']!r}, scipy.spatial.distance.jensenshannon {js!r}")
        if "categories" in extra and "chisquare" in got:
            keys, ref, cur, expected = extra["categories"]
            result = scipy.stats.chisquare(cur, expected)
            if not close(got["chisquare"], float(result.statistic)):
                mismatch(f"{name}.chisquare: mv {got['chisquare']!r}, scipy.stats.chisquare {float(result.statistic)!r}")
            if not close(got.get("chisquare_p", -1), float(result.pvalue)):
                mismatch(f"{name}.chisquare_p: mv {got.get('chisquare_p')!r}, scipy.stats.chisquare {float(result.pvalue)!r}")

        # scipy on the raw rows
        if training is not None and column["type"] == "numeric" and "ks" in got and name in training:
            train_values, _ = numeric_values(training[name])
            cur_values, _ = numeric_values(current[name])
            if train_values and cur_values:
                exact = scipy.stats.ks_2samp(train_values, cur_values)
                asymp = scipy.stats.ks_2samp(train_values, cur_values, method="asymp")
                d, bound = got["ks"], got["ks_bound"]
                if not (d <= exact.statistic + 1e-12 and exact.statistic <= d + bound + 1e-12):
                    mismatch(f"{name}.ks: mv {d!r} (bound {bound!r}), scipy.stats.ks_2samp {float(exact.statistic)!r}: "
                             f"not within [ks, ks + ks_bound]")
                # Stephens' formula at the exact statistic: the formula's own error, apart
                # from the cells'.
                at_exact = ks_p_value(float(exact.statistic), len(train_values), len(cur_values))
                ks_p_differences.append((name, got["ks_p"], float(exact.pvalue), float(asymp.pvalue), at_exact))
                info(f"ks  {name}: mv D {d:.6f} (bound {bound:.6f}) exact D* {float(exact.statistic):.6f}; "
                     f"p mv {got['ks_p']:.6g} scipy {float(exact.pvalue):.6g} (asymp {float(asymp.pvalue):.6g}) "
                     f"|Δp| {abs(got['ks_p'] - float(exact.pvalue)):.3g}; Stephens at D* {at_exact:.6g} "
                     f"|Δp| {abs(at_exact - float(exact.pvalue)):.3g}")
                scipy_w = float(scipy.stats.wasserstein_distance(train_values, cur_values)) / max(float(np.std(train_values)), 0.001)
                error = abs(got["wasserstein"] - scipy_w) / scipy_w if scipy_w else abs(got["wasserstein"])
                wasserstein_errors.append((name, got["wasserstein"], scipy_w, error))
                info(f"wasserstein {name}: mv {got['wasserstein']:.6f} scipy {scipy_w:.6f} relative error {error:.3g}")

    extra_features = set(features) - set(names)
    if extra_features:
        mismatch(f"features mv reports that the reference does not have: {sorted(extra_features)}")
    drift = report_json.get("drift", {})
    share = drifted / len(names) if names else 0.0
    for key, value in (("features", len(names)), ("drifted_features", drifted), ("share", share),
                       ("dataset_drifted", share >= options.drift_share), ("dataset_threshold", options.drift_share),
                       ("p_value_threshold", options.p_value), ("distance_threshold", options.distance)):
        if not close(drift.get(key), value):
            mismatch(f"drift.{key}: mv {drift.get(key)!r}, expected {value!r}")
    order = [f.get("drifted") for f in report_json.get("features", [])]
    if order != sorted(order, reverse=True):
        mismatch(f"features are not listed drifted first: {[(f['name'], f.get('drifted')) for f in report_json['features']]}")

    print(f"summary: {len(names)} columns, {compared} figures compared, {len(mismatches)} mismatches; "
          f"{drifted} drifted (share {share:.3f}, dataset drifted: {share >= options.drift_share})")
    if ks_p_differences:
        worst = max(ks_p_differences, key=lambda t: abs(t[1] - t[2]))
        print(f"summary: KS p-value, largest |mv − scipy exact| {abs(worst[1] - worst[2]):.3g} ({worst[0]}: {worst[1]:.6g} vs {worst[2]:.6g}); "
              f"largest |mv − scipy asymp| {max(abs(t[1] - t[3]) for t in ks_p_differences):.3g}; "
              f"Stephens at the exact D*: largest |Δp| {max(abs(t[4] - t[2]) for t in ks_p_differences):.3g}")
    if wasserstein_errors:
        worst = max(wasserstein_errors, key=lambda t: t[3])
        print(f"summary: normalised Wasserstein, largest relative error vs scipy {worst[3]:.3g} ({worst[0]}: {worst[1]:.6f} vs {worst[2]:.6f})")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
