#!/usr/bin/python3
"""Writes tiny_llama_hf.onnx, the decoder the generation tests compile.

A 1-layer Llama-style decoder of bench/models/real/hf_decoders.py (Hugging
Face Optimum's layout: input_ids, attention_mask, position_ids,
past_key_values.0.key/value -> logits, present.0.key/value; RoPE table of 128
positions, GQA 4/2 heads, vocabulary 64), exported by torch.onnx.export
(Debian's python3-torch 1.13) with seed 0. Needs torch; the tests use the
committed file, and the expected tokens next to it (expected_tokens.json)
come from ONNX Runtime's past/present loop (bench/llm/ort_generate.js),
recorded when the model was made:

  /usr/bin/python3 test/Generate/Inputs/make_tiny_decoder.py test/Generate/Inputs
  for p in 1 5 20; do node bench/llm/ort_generate.js \\
      test/Generate/Inputs/tiny_llama_hf.onnx --prompt-ids <ids> --max-new-tokens 24; done
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../bench/models/real"))
import torch  # noqa: E402
import hf_decoders  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "."
torch.manual_seed(0)
m = hf_decoders.Llama(vocab=64, d=32, hq=4, hkv=2, ffn=64, layers=1, max_pos=128).eval()
inputs = hf_decoders.example(m, 3, 5)
ins, outs, axes = hf_decoders.names(1)
model = hf_decoders._export(m, inputs, 17, ins, outs, axes)
import onnx  # noqa: E402
onnx.save(model, os.path.join(out, "tiny_llama_hf.onnx"))
