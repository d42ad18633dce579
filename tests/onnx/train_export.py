#!/usr/bin/env python3
# Verified with Python 3.11.7 and exactly these versions:
#   pip install scikit-learn==1.9.1 skl2onnx==1.20.0 onnx==1.23.2 \
#       onnxruntime==1.32.0 pandas==3.1.1 numpy==2.4.6
# (which pulled scipy==1.17.1, protobuf==7.36.2, ml_dtypes==0.7.0)
"""Train three small scikit-learn models on the women's clothing reviews CSV,
export them to ONNX so that the pure-Rust runtime tract-onnx 0.23.9 can run
them, and write held-out inputs plus onnxruntime's outputs for comparison.

Usage:  python train_export.py REVIEWS_CSV OUT_DIR

Data handling
  * The 14 rows with an empty Division/Department/Class Name are dropped
    before splitting (no imputation in the graph: skl2onnx's SimpleImputer
    becomes ai.onnx.ml:Imputer, which tract does not have).
  * Deterministic 80/20 split: numpy RandomState(20240601).permutation over
    the remaining rows; first 80 % train, rest held out.
  * `Rating` is never an input of the binary model (it leaks the label).

Models (all exported with target opset {"": 17, "ai.onnx.ml": 3})
  binary.onnx      LogisticRegression predicting `Recommended IND` (0/1)
                   from StandardScaler(Age, Positive Feedback Count) +
                   OneHotEncoder(Department Name, Division Name,
                   handle_unknown="ignore").
                   Inputs, one per CSV column, shape [N,1]:
                     age                      float32  <- Age
                     positive_feedback_count  float32  <- Positive Feedback Count
                     department_name          string   <- Department Name
                     division_name            string   <- Division Name
  multiclass.onnx  RandomForestClassifier(10 trees, depth 6) predicting
                   `Rating` (classes 1..5) from Age, Positive Feedback Count,
                   Recommended IND (floats) + OneHotEncoder(Department Name).
                   Inputs, shape [N,1]: age, positive_feedback_count,
                   recommended_ind (float32), department_name (string).
                   Kept small on purpose: tract 0.23.9's tree evaluation
                   walks the leaf-vote table with outer_iter().skip(start),
                   so each tree visit costs O(total leaf votes of the whole
                   forest); 25 trees of depth 8 took ~12 s for 4.7k rows.
  regression.onnx  Ridge(alpha=1.0) predicting `Rating` (as a number) from
                   StandardScaler(Age, Positive Feedback Count, Recommended IND).
                   ONE input `X`, float32 [N,3], columns in that order.
  MODEL.json (binary.json, multiclass.json, regression.json) describes the
  inputs/outputs; the exact mapping from graph input to CSV column is there.

Rewrites (why: tract-onnx 0.23.9 registers no ai.onnx.ml Scaler or
OneHotEncoder; an unknown op parses as UnimplementedOp and fails with
"Operator can not be made a TypedOp." when the model is typed).  After
conversion, every such node is replaced by standard ONNX ops that compute
the same thing, and onnxruntime is used to check the rewritten graph against
the original skl2onnx graph and against scikit-learn:
  ai.onnx.ml:Scaler(X; offset, scale)      ->  Mul(Sub(X, offset), scale)
  ai.onnx.ml:OneHotEncoder(X; cats_strings)
      ->  Cast<float>(Equal(Unsqueeze(CategoryMapper(X) -> int64 index, -1),
                            [0..K-1]))
      CategoryMapper (ai.onnx.ml, supported by tract) maps category k to k
      and anything unseen (including "") to -1, so an unseen value gives an
      all-zero row, as OneHotEncoder(handle_unknown="ignore") / zeros=1 does.
      Output shape [N,1,K], same as the ONNX-ML op.
ZipMap is disabled with options {"zipmap": False}.

Outputs written to OUT_DIR:
  binary.onnx multiclass.onnx regression.onnx
  binary.json multiclass.json regression.json
  heldout.csv              held-out rows: row_id (the CSV's unnamed index)
                           and the raw input/label columns, original names
  binary_expected.csv ...  onnxruntime outputs on heldout.csv, same row
                           order, %.17g of the float32 values
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 20240601
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}

# graph input name -> CSV column name
COLS = {
    "age": "Age",
    "positive_feedback_count": "Positive Feedback Count",
    "recommended_ind": "Recommended IND",
    "department_name": "Department Name",
    "division_name": "Division Name",
}
STRING_INPUTS = {"department_name", "division_name"}
STRING_COLUMNS = {"Department Name", "Division Name"}
HELDOUT_COLS = ["Age", "Positive Feedback Count", "Recommended IND", "Rating",
                "Department Name", "Division Name"]


def load(path):
    df = pd.read_csv(path)
    df = df.rename(columns={df.columns[0]: "row_id"})
    df = df.dropna(subset=["Division Name", "Department Name"]).reset_index(drop=True)
    perm = np.random.RandomState(SEED).permutation(len(df))
    n_train = int(round(0.8 * len(df)))
    return df.iloc[np.sort(perm[:n_train])], df.iloc[np.sort(perm[n_train:])]


def schema(train, columns):
    """The card's input schema: what training saw of each input column
    (range and sample standard deviation of numbers, sorted categories of
    text), which mltest's robustness perturbations keep rows legal by."""
    out = []
    for c in columns:
        col = train[c]
        if c in STRING_COLUMNS:
            out.append({"name": c, "dtype": "text", "nullable": bool(col.isna().any()),
                        "categories": sorted(col.dropna().astype(str).unique().tolist())})
        else:
            x = col.astype(np.float64)
            out.append({"name": c, "dtype": "numeric", "nullable": bool(x.isna().any()),
                        "range": [float(x.min()), float(x.max())], "std": float(x.std(ddof=1))})
    return out


def frame(df, names):
    """DataFrame whose columns are graph input names, floats as float32."""
    out = pd.DataFrame(index=df.index)
    for n in names:
        col = df[COLS[n]]
        out[n] = col.astype(str) if n in STRING_INPUTS else col.astype(np.float32)
    return out


def feeds_per_column(df, names):
    feeds = {}
    for n in names:
        col = df[COLS[n]]
        if n in STRING_INPUTS:
            feeds[n] = col.astype(str).to_numpy(dtype=object).reshape(-1, 1)
        else:
            feeds[n] = col.to_numpy(dtype=np.float32).reshape(-1, 1)
    return feeds


# ---------------------------------------------------------------- rewrites
def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def rewrite_for_tract(model, name):
    g = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    new_nodes, inits = [], []
    for node in g.node:
        if node.domain == "ai.onnx.ml" and node.op_type == "Scaler":
            offset = np.asarray(_attr(node, "offset", [0.0]), dtype=np.float32)
            scale = np.asarray(_attr(node, "scale", [1.0]), dtype=np.float32)
            p = node.output[0]
            inits += [numpy_helper.from_array(offset, p + "_offset"),
                      numpy_helper.from_array(scale, p + "_scale")]
            new_nodes += [
                helper.make_node("Sub", [node.input[0], p + "_offset"], [p + "_centered"],
                                 name=node.name + "_sub"),
                helper.make_node("Mul", [p + "_centered", p + "_scale"], [p],
                                 name=node.name + "_mul"),
            ]
        elif node.domain == "ai.onnx.ml" and node.op_type == "OneHotEncoder":
            cats = _attr(node, "cats_strings")
            if cats is None:
                raise ValueError("only string OneHotEncoder is rewritten")
            if _attr(node, "zeros", 1) != 1:
                raise ValueError("OneHotEncoder zeros=0 not supported")
            cats = [c.decode() if isinstance(c, bytes) else c for c in cats]
            k = len(cats)
            p = node.output[0]
            inits.append(numpy_helper.from_array(np.arange(k, dtype=np.int64), p + "_range"))
            if opset >= 13:  # Unsqueeze takes axes as an input from opset 13 on
                inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), p + "_axes"))
                unsqueeze = helper.make_node("Unsqueeze", [p + "_index", p + "_axes"],
                                             [p + "_index3"], name=node.name + "_unsqueeze")
            else:
                unsqueeze = helper.make_node("Unsqueeze", [p + "_index"], [p + "_index3"],
                                             axes=[-1], name=node.name + "_unsqueeze")
            new_nodes += [
                helper.make_node("CategoryMapper", [node.input[0]], [p + "_index"],
                                 domain="ai.onnx.ml", name=node.name + "_catmap",
                                 cats_strings=cats, cats_int64s=list(range(k)),
                                 default_int64=-1),
                unsqueeze,
                helper.make_node("Equal", [p + "_index3", p + "_range"], [p + "_eq"],
                                 name=node.name + "_equal"),
                helper.make_node("Cast", [p + "_eq"], [p], to=TensorProto.FLOAT,
                                 name=node.name + "_cast"),
            ]
        else:
            new_nodes.append(node)
    del g.node[:]
    g.node.extend(new_nodes)
    g.initializer.extend(inits)
    # Byte-for-byte reproducible files: skl2onnx names the graph with a random
    # uuid and lists opsets in set order (sometimes both "" and "ai.onnx").
    g.name = name
    versions = {}
    for o in model.opset_import:
        d = "" if o.domain == "ai.onnx" else o.domain
        versions[d] = max(versions.get(d, 0), o.version)
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(versions.items()))
    onnx.checker.check_model(model)
    return model


def ops(model):
    return sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in model.graph.node})


def run_ort(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def export(name, pipe, initial_types, feeds, out_dir, meta, out_index, sk_ref):
    clf = pipe.steps[-1][1]
    options = {id(clf): {"zipmap": False}} if meta["task"] != "regression" else None
    raw = convert_sklearn(pipe, initial_types=initial_types, target_opset=TARGET_OPSET,
                          options=options)
    print(f"{name}: opsets {[(o.domain or 'ai.onnx', o.version) for o in raw.opset_import]}")
    print(f"{name}: skl2onnx ops: {ops(raw)}")
    raw_out = run_ort(raw, feeds)[out_index]
    model = rewrite_for_tract(onnx.load_from_string(raw.SerializeToString()), name)
    print(f"{name}: ops after rewrite: {ops(model)}")
    outs = run_ort(model, feeds)
    got = np.asarray(outs[out_index])
    sess_names = [o.name for o in model.graph.output]
    print(f"{name}: outputs {sess_names} shapes {[np.shape(o) for o in outs]}")
    print(f"{name}: max|rewritten - skl2onnx| = {np.max(np.abs(got - raw_out)):.3g}, "
          f"max|rewritten - sklearn| = {np.max(np.abs(got.reshape(sk_ref.shape) - sk_ref)):.3g}")
    assert np.max(np.abs(got - raw_out)) == 0.0
    onnx.save(model, os.path.join(out_dir, f"{name}.onnx"))

    meta["outputs"] = {("value" if meta["task"] == "regression" else "probabilities"):
                       sess_names[out_index]}
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(meta, f, indent=2)
    got = got.reshape(got.shape[0], -1).astype(np.float64)
    header = ["value"] if meta["task"] == "regression" else [f"p_{c}" for c in meta["classes"]]
    with open(os.path.join(out_dir, f"{name}_expected.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for row in got:
            f.write(",".join("%.17g" % v for v in row) + "\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    csv_path, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    train, held = load(csv_path)
    print(f"train rows {len(train)}, held-out rows {len(held)}")
    held[["row_id"] + HELDOUT_COLS].to_csv(os.path.join(out_dir, "heldout.csv"), index=False)

    # (a) binary ---------------------------------------------------------
    names = ["age", "positive_feedback_count", "department_name", "division_name"]
    clf = LogisticRegression(max_iter=1000)
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", StandardScaler(), ["age", "positive_feedback_count"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["department_name", "division_name"]),
        ])),
        ("clf", clf),
    ])
    pipe.fit(frame(train, names), train["Recommended IND"].astype(np.int64))
    types = [(n, StringTensorType([None, 1]) if n in STRING_INPUTS else FloatTensorType([None, 1]))
             for n in names]
    inputs = [{"name": n, "columns": [COLS[n]], "dtype": "string" if n in STRING_INPUTS else "float32"}
              for n in names]
    classes = [int(c) for c in clf.classes_]
    export("binary", pipe, types, feeds_per_column(held, names), out_dir,
           {"inputs": inputs, "classes": classes, "label": "Recommended IND",
            "task": "binary", "positive_class": 1,
            "schema": schema(train, [COLS[n] for n in names])}, 1, pipe.predict_proba(frame(held, names)))

    # (b) multiclass -----------------------------------------------------
    names = ["age", "positive_feedback_count", "recommended_ind", "department_name"]
    clf = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0, n_jobs=1)
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", "passthrough", ["age", "positive_feedback_count", "recommended_ind"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["department_name"]),
        ])),
        ("clf", clf),
    ])
    pipe.fit(frame(train, names), train["Rating"].astype(np.int64))
    types = [(n, StringTensorType([None, 1]) if n in STRING_INPUTS else FloatTensorType([None, 1]))
             for n in names]
    inputs = [{"name": n, "columns": [COLS[n]], "dtype": "string" if n in STRING_INPUTS else "float32"}
              for n in names]
    classes = [int(c) for c in clf.classes_]
    export("multiclass", pipe, types, feeds_per_column(held, names), out_dir,
           {"inputs": inputs, "classes": classes, "label": "Rating", "task": "multiclass",
            "schema": schema(train, [COLS[n] for n in names])},
           1, pipe.predict_proba(frame(held, names)))

    # (c) regression -----------------------------------------------------
    cols = ["Age", "Positive Feedback Count", "Recommended IND"]
    pipe = Pipeline([("scale", StandardScaler()), ("reg", Ridge(alpha=1.0))])
    x_train = train[cols].to_numpy(dtype=np.float32)
    pipe.fit(x_train, train["Rating"].to_numpy(dtype=np.float64))
    x_held = held[cols].to_numpy(dtype=np.float32)
    export("regression", pipe, [("X", FloatTensorType([None, len(cols)]))], {"X": x_held},
           out_dir, {"inputs": [{"name": "X", "columns": cols, "dtype": "float32"}],
                     "label": "Rating", "task": "regression", "schema": schema(train, cols)},
           0, pipe.predict(x_held).reshape(-1, 1))


if __name__ == "__main__":
    main()
