"""Bad-model fixtures for onnx_core's error paths."""
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper

out, models = sys.argv[1], sys.argv[2]
good = open(f"{models}/binary.onnx", "rb").read()
open(f"{out}/truncated.onnx", "wb").write(good[: len(good) // 2])
open(f"{out}/random.onnx", "wb").write(np.random.RandomState(7).bytes(4096))

X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])

def save(name, nodes, opsets):
    g = helper.make_graph(nodes, name, [X], [Y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    m.ir_version = 8
    onnx.save(m, f"{out}/{name}.onnx")

# made-up op in a made-up domain
save("madeup_op", [helper.make_node("FrobnicateRows", ["x"], ["y"], domain="com.example.madeup",
                                    name="frob")],
     [("", 17), ("com.example.madeup", 1)])
# made-up op in the default domain (what tract's UnimplementedOp path sees)
save("madeup_default_domain", [helper.make_node("FrobnicateRows", ["x"], ["y"], name="frob")],
     [("", 17)])
# a real ONNX-ML op tract 0.23.9 lacks: skl2onnx's StandardScaler output
save("mlscaler", [helper.make_node("Scaler", ["x"], ["y"], domain="ai.onnx.ml", name="scaler",
                                   offset=[1.0, 2.0], scale=[0.5, 0.25])],
     [("", 17), ("ai.onnx.ml", 1)])
# rank-3 output
save("rank3_out", [helper.make_node("Unsqueeze", ["x", "ax"], ["y"], name="unsq")], [("", 17)])
m = onnx.load(f"{out}/rank3_out.onnx")
m.graph.initializer.append(onnx.numpy_helper.from_array(np.array([2], dtype=np.int64), "ax"))
m.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 1
onnx.checker.check_model(m)
onnx.save(m, f"{out}/rank3_out.onnx")
print("fixtures written")
S = helper.make_tensor_value_info("s", TensorProto.STRING, ["N", 1])
Z = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 1, 2])
g = helper.make_graph([helper.make_node("OneHotEncoder", ["s"], ["z"], domain="ai.onnx.ml",
                                        name="ohe", cats_strings=["a", "b"])], "ohe", [S], [Z])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)])
m.ir_version = 8
onnx.save(m, f"{out}/mlonehot.onnx")
