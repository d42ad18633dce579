"""Interop check: a model file written by mltest opens with Python's
safetensors (safe_open, framework="np"); its tensors and the mltest.card
metadata are readable and consistent.

    python3 tests/interop/read_model.py [model_store]

Checks every version in the store: the card parses, names its own version,
lists every tensor, and the tensors' dtypes and shapes match the file; the
recorded file sha256 matches. Exits non-zero on the first problem.
"""
import hashlib, json, pathlib, sys

import numpy as np
from safetensors import safe_open

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "model_store")
files = sorted(root.glob("*/[0-9]*/model.safetensors"))
if not files:
    sys.exit(f"no model files under {root}")
for path in files:
    name, version = path.parent.parent.name, int(path.parent.name)
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
        assert "mltest.card" in meta, f"{path}: no mltest.card in metadata"
        card = json.loads(meta["mltest.card"])
        assert card["name"] == name and card["version"] == version, f"{path}: card says {card['name']}@{card['version']}"
        for key in ["created_at", "inputs", "output", "pipeline", "metrics", "dependencies", "tensors_sha256"]:
            assert key in card, f"{path}: card lacks {key}"
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    assert tensors, f"{path}: no tensors"
    for k, t in tensors.items():
        assert isinstance(t, np.ndarray), k
        assert np.all(np.isfinite(t)) if t.dtype.kind == "f" else True, f"{path}: {k} has non-finite values"
    # The card's tensors_sha256, recomputed from the arrays Python read: the
    # same scheme as mltest (per tensor in name order: name, dtype, shape, bytes).
    tags = {"float64": "F64", "float32": "F32", "int64": "I64", "uint8": "U8"}
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = np.ascontiguousarray(tensors[k])
        data = t.astype(t.dtype.newbyteorder("<")).tobytes()
        h.update(len(k.encode()).to_bytes(8, "little")); h.update(k.encode())
        h.update(tags[str(t.dtype)].encode())
        for d in t.shape:
            h.update(int(d).to_bytes(8, "little"))
        h.update(len(data).to_bytes(8, "little")); h.update(data)
    assert h.hexdigest() == card["tensors_sha256"], f"{path}: tensor values differ from the card's hash"
    recorded = (path.parent / "model.safetensors.sha256").read_text().split()[0]
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    assert recorded == actual, f"{path}: sha256 {actual} != recorded {recorded}"
    shapes = ", ".join(f"{k}{list(v.shape)}:{v.dtype}" for k, v in sorted(tensors.items()))
    print(f"ok {name}@{version}: card {card['output']['label']!r}, {len(card['inputs'])} inputs, tensors {shapes}")
print(f"{len(files)} model file(s) read by safetensors {__import__('safetensors').__version__}")
