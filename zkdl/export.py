"""Export a trained run's final model: float weights (.npz), an ONNX model, and what they need.

`export` writes to a directory:

* ``weights.npz``: ``W0``, ``W1``, .. (float64 [d_in, d_out]) and ``b0``, .. with biases: the final
  weights' real values, W / 2^(2R+e) and b / 2^(R+e). float64 holds them exactly (checked), so
  `zkdl.model.load_weights` rounds them back to the committed integers: this is a file
  ``zkdl check-weights`` accepts, with the opening file ``zkdl prove`` wrote.
* ``model.onnx``: the network as the proof defines it, for onnxruntime (opset 13, float64): input
  ``features`` [N, d], the rows' features as in the training file; the recorded standardisation
  and rounding to the data bits; per layer ``x·W (+ b)`` rounded half up to 2^-R and, for hidden
  layers, ReLU; outputs ``scores`` [N, K] (the output layer's Z', real values), ``class`` [N]
  (int64, argmax, the first of equal scores) and ``label`` [N] (string: the data file's label).
  Its predictions are ``zkdl predict``'s: products that the integer pass computes exactly are
  float64 sums here, which could only differ where a value lies within about 2^-40 (relative) of a
  rounding boundary.
* ``model.json``: widths, scales, standardisation, labels and the data digest, for people and
  other runtimes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkdl.errors import ZkdlError
from zkdl.predict import class_names
from zkdl.quant import dequantize, quantize
from zkdl.run import TrainingRun

EXPORT_FORMAT = "zkdl-export"
EXPORT_VERSION = 1
ONNX_OPSET = 13
ONNX_IR_VERSION = 7  # the IR of opset 13: runtimes back to onnxruntime 1.6 load the model


class ExportError(ZkdlError, RuntimeError):
    """The model cannot be exported (a missing optional dependency, weights float64 cannot hold)."""

    code = "export"


@dataclass(frozen=True)
class ExportResult:
    weights_path: str
    onnx_path: str
    model_json_path: str


def export(run: TrainingRun, out_dir: str | Path) -> ExportResult:
    """Write ``weights.npz``, ``model.onnx`` and ``model.json`` of the run's final model to `out_dir`."""
    onnx = _onnx()
    arrays = real_weights(run)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", **arrays)  # type: ignore[arg-type]  # numpy's stub reads **arrays as allow_pickle
    onnx.save(onnx_model(run, arrays), out / "model.onnx")
    (out / "model.json").write_text(json.dumps(description(run), indent=2) + "\n")
    return ExportResult(str(out / "weights.npz"), str(out / "model.onnx"), str(out / "model.json"))


def real_weights(run: TrainingRun) -> dict[str, np.ndarray]:
    """The final weights as float64 real values (keys W0.., b0..), refused unless exact."""
    q = run.spec.quant
    arrays = {}
    for name, values in run.final.to_arrays().items():
        exp = q.weight_exp if name.startswith("W") else q.bias_exp
        real = dequantize(values, exp)
        if not np.array_equal(quantize(real, exp), values):
            raise ExportError(f"{name} has values of more than 53 bits, which float64 cannot hold: deliver weights_final.npz (integers)")
        arrays[name] = real
    return arrays


def description(run: TrainingRun) -> dict[str, Any]:
    """``model.json``: what the ONNX model computes, in words and numbers."""
    q, ref = run.spec.quant, run.data
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "widths": list(run.spec.model.widths),
        "bias": run.spec.model.bias,
        "frac_bits": q.frac_bits,
        "lr_exp": q.lr_exp,
        "range_bits": q.range_bits,
        "data_frac_bits": ref.frac_bits,
        "standardization": ref.standardization,
        "labels": class_names(run),
        "data_digest": ref.digest,
    }


def onnx_model(run: TrainingRun, arrays: dict[str, np.ndarray]) -> Any:
    """The ONNX graph of the fixed-point network (module docstring)."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    consts: list[Any] = []

    def const(name: str, value: Any) -> str:
        consts.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], **attrs))
        return output

    def rounded(x: str, bits: int, name: str, half_up: bool) -> str:
        """x rounded to a multiple of 2^-bits: half up (the rescale) or half to even (data quantisation)."""
        scaled = op("Mul", [x, const(f"{name}_scale", 2.0**bits)], f"{name}_scaled")
        if half_up:
            whole = op("Floor", [op("Add", [scaled, const(f"{name}_half", 0.5)], f"{name}_plus_half")], f"{name}_whole")
        else:
            whole = op("Round", [scaled], f"{name}_whole")
        return op("Mul", [whole, const(f"{name}_unscale", 2.0**-bits)], f"{name}_rounded")

    ref, q = run.data, run.spec.quant
    x = "features"
    if ref.standardization is not None:
        x = op("Sub", [x, const("mean", np.array(ref.standardization["mean"]))], "centred")
        x = op("Div", [x, const("scale", np.array(ref.standardization["scale"]))], "standardised")
    x = rounded(x, ref.frac_bits, "input", half_up=False)
    layers = run.spec.model.n_layers
    for l in range(layers):
        z = op("MatMul", [x, const(f"W{l}", arrays[f"W{l}"])], f"z{l}")
        if f"b{l}" in arrays:
            z = op("Add", [z, const(f"b{l}", arrays[f"b{l}"])], f"z{l}_biased")
        x = rounded(z, q.frac_bits, f"layer{l}", half_up=True)
        if l < layers - 1:
            x = op("Relu", [x], f"a{l}")
    op("Identity", [x], "scores")
    op("ArgMax", ["scores"], "class", axis=1, keepdims=0)
    op("Gather", [const("label_names", np.array(class_names(run), dtype=object)), "class"], "label")
    d, k = run.spec.model.widths[0], run.spec.model.widths[-1]
    outputs = [
        helper.make_tensor_value_info("scores", TensorProto.DOUBLE, ["N", k]),
        helper.make_tensor_value_info("class", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
    ]
    features = helper.make_tensor_value_info("features", TensorProto.DOUBLE, ["N", d])
    graph = helper.make_graph(nodes, "zkdl_mlp", [features], outputs, initializer=consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="zkdl")
    model.ir_version = ONNX_IR_VERSION
    helper.set_model_props(model, {"zkdl": json.dumps(description(run))})
    onnx.checker.check_model(model)
    return model


def _onnx() -> Any:
    """The onnx package, or an error saying how to get it."""
    try:
        import onnx
    except ImportError:
        raise ExportError("exporting needs the onnx package: pip install 'zkdl[onnx]'") from None
    return onnx
