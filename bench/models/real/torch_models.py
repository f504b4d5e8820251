"""The PyTorch half of the real-model corpus: torchvision / torchaudio
architectures and two PyTorch-written transformer decoders (GPT-2 style and
Llama style, with past key/values and dynamic axes), exported as
torch.onnx.export writes them (torch 1.13, Debian's python3-torch).

Every entry of TORCH_MODELS is name -> Spec: a factory for the module and its
example inputs (fixed seeds), the opsets of the full corpus and of the fast
subset. build.py does the exporting.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Spec:
    def __init__(self, make, opsets, fast=(), input_names=None, output_names=None,
                 dynamic_axes=None, calibrate=True, note="", script=False,
                 loomc_args=(), export=None):
        self.make = make                  # () -> (module, tuple of example inputs)
        self.opsets = list(opsets)
        self.fast = list(fast)
        self.input_names = input_names
        self.output_names = output_names
        self.dynamic_axes = dynamic_axes
        self.calibrate = calibrate        # set BatchNorm statistics (build.py)
        self.note = note
        self.script = script              # export torch.jit.script(module): Python
                                          # control flow becomes ONNX If / Loop
        self.loomc_args = list(loomc_args)  # what loomc needs (run.py reads it)
        self.export = export               # (opset, seed) -> (ModelProto, input
                                           # arrays): a model written otherwise


def _img(c=3, h=112, w=None):
    return torch.randn(1, c, h, w or h)


def tv(name, size=112, **kw):
    def make():
        import torchvision.models as m
        return getattr(m, name)(weights=None, **kw).eval(), (_img(h=size),)
    return make


def tv_seg(name, size=112):
    class Out(nn.Module):  # the segmentation models return a dict: keep "out"
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x)["out"]

    def make():
        import torchvision.models.segmentation as s
        return Out(getattr(s, name)(weights=None, weights_backbone=None, aux_loss=False).eval()), \
            (_img(h=size),)
    return make


def tv_video(name, t=4, size=64):
    def make():
        import torchvision.models.video as v
        return getattr(v, name)(weights=None).eval(), (torch.randn(1, 3, t, size, size),)
    return make


def fpn_backbone(kind, size=128):
    class Out(nn.Module):  # an OrderedDict of feature maps -> a tuple
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return tuple(self.m(x).values())

    def make():
        from torchvision.models.detection import backbone_utils as b
        if kind == "resnet18":
            m = b.resnet_fpn_backbone(backbone_name="resnet18", weights=None, trainable_layers=5)
        else:
            import torchvision.models as tm
            m = b._mobilenet_extractor(tm.mobilenet_v3_large(weights=None), True, 6)
        return Out(m.eval()), (_img(h=size),)
    return make


def detection(name, size=None):
    class Out(nn.Module):  # list of dicts -> boxes, scores, labels
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            d = self.m([x[0]])[0]
            return d["boxes"], d["scores"], d["labels"]

    def make():
        import torchvision.models.detection as d
        kw = {"min_size": size, "max_size": size} if size else {}
        m = getattr(d, name)(weights=None, weights_backbone=None, **kw)
        return Out(m.eval()), (_img(h=size or 320),)
    return make


def audio(name, layers=4, samples=8000):
    def make():
        import torchaudio.models as a
        # wav2vec2 base and hubert base (torchaudio.models.hubert_base): the
        # same encoder, with dropout and layer drop only in wav2vec2's (no
        # effect on the exported inference graph).
        drop = 0.1 if name == "wav2vec2" else 0.0
        m = a.wav2vec2_model(
            extractor_mode="group_norm", extractor_conv_layer_config=None, extractor_conv_bias=False,
            encoder_embed_dim=768, encoder_projection_dropout=drop, encoder_pos_conv_kernel=128,
            encoder_pos_conv_groups=16, encoder_num_layers=layers, encoder_num_heads=12,
            encoder_attention_dropout=drop, encoder_ff_interm_features=3072,
            encoder_ff_interm_dropout=0.0, encoder_dropout=drop, encoder_layer_norm_first=False,
            encoder_layer_drop=0.05 if name == "wav2vec2" else 0.0, aux_num_out=None)

        class Out(nn.Module):  # (features, lengths) -> features
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                return self.m(x)[0]
        return Out(m.eval()), (torch.randn(1, samples),)
    return make


def conformer(frames=64):
    def make():
        import torchaudio.models as a
        m = a.Conformer(input_dim=80, num_heads=4, ffn_dim=256, num_layers=2,
                        depthwise_conv_kernel_size=15)
        return m.eval(), (torch.randn(1, frames, 80), torch.tensor([frames], dtype=torch.int64))
    return make


# ------------------------------------------------- PyTorch-written decoders


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d) + 0.1 * torch.randn(d))
        self.eps = eps

    def forward(self, x):
        v = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(v + self.eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, d, hq, hkv, ffn):
        super().__init__()
        self.hq, self.hkv, self.hd = hq, hkv, d // hq
        self.q_proj = nn.Linear(d, hq * self.hd, bias=False)
        self.k_proj = nn.Linear(d, hkv * self.hd, bias=False)
        self.v_proj = nn.Linear(d, hkv * self.hd, bias=False)
        self.o_proj = nn.Linear(hq * self.hd, d, bias=False)
        self.gate_proj = nn.Linear(d, ffn, bias=False)
        self.up_proj = nn.Linear(d, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, d, bias=False)
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        b, s, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, s, self.hq, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(b, s, self.hkv, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(b, s, self.hkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = self.hq // self.hkv  # HF repeat_kv
        kk = k[:, :, None].expand(b, self.hkv, rep, k.shape[2], self.hd).reshape(b, self.hq, k.shape[2], self.hd)
        vv = v[:, :, None].expand(b, self.hkv, rep, v.shape[2], self.hd).reshape(b, self.hq, v.shape[2], self.hd)
        a = torch.matmul(q, kk.transpose(2, 3)) / math.sqrt(self.hd) + mask
        a = F.softmax(a, dim=-1, dtype=torch.float32)
        o = torch.matmul(a, vv).transpose(1, 2).reshape(b, s, self.hq * self.hd)
        x = x + self.o_proj(o)
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, present


class Llama(nn.Module):
    """A Llama-style decoder step: RMSNorm, RoPE from positions computed from
    the past length (Shape -> Range), GQA, SwiGLU, causal mask built from
    shapes, past key/values in, present key/values out."""

    def __init__(self, vocab=512, d=128, hq=8, hkv=2, ffn=344, layers=2):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList([LlamaLayer(d, hq, hkv, ffn) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.hd = d // hq
        inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.register_buffer("inv_freq", inv)

    def forward(self, input_ids, *past):
        s = input_ids.shape[1]
        p = past[0].shape[2]
        pos = torch.arange(p, p + s, dtype=torch.int64).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((s, p + s), torch.finfo(torch.float32).min).triu(p + 1)[None, None]
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, (k, v) = layer(x, cos, sin, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(x)),) + tuple(presents)


class GPT2Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.hd = h, d // h
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, past_k, past_v):
        b, s, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q = q.view(b, s, self.h, self.hd).transpose(1, 2)
        k = k.view(b, s, self.h, self.hd).transpose(1, 2)
        v = v.view(b, s, self.h, self.hd).transpose(1, 2)
        k = torch.cat([past_k, k], dim=-2)
        v = torch.cat([past_v, v], dim=-2)
        t = k.shape[2]
        a = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        causal = torch.ones(t, t, dtype=torch.bool).tril()[t - s: t, :t]
        a = torch.where(causal, a, torch.tensor(torch.finfo(a.dtype).min))
        a = F.softmax(a, dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).contiguous().view(b, s, d)
        x = x + self.c_proj(o)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class GPT2(nn.Module):
    """A GPT-2 style decoder step with past key/values (HF GPT2Model's
    structure: token + position embeddings, pre-LN blocks, a causal mask
    sliced from a square by the past length, tanh GELU)."""

    def __init__(self, vocab=512, d=128, h=4, layers=2, n_pos=256):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(n_pos, d)
        self.h = nn.ModuleList([GPT2Block(d, h) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids, *past):
        s = input_ids.shape[1]
        p = past[0].shape[2]
        pos = torch.arange(p, p + s, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        presents = []
        for i, blk in enumerate(self.h):
            x, k, v = blk(x, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        x = self.ln_f(x)
        return (torch.matmul(x, self.wte.weight.t()),) + tuple(presents)


def decoder(kind, seq, past_len, layers=2):
    def make():
        if kind == "llama":
            m, kv_heads, hd = Llama(layers=layers), 2, 16
        else:
            m, kv_heads, hd = GPT2(layers=layers), 4, 32
        ids = torch.randint(0, 512, (1, seq), dtype=torch.int64)
        past = tuple(torch.randn(1, kv_heads, past_len, hd) for _ in range(2 * layers))
        return m.eval(), (ids,) + past
    names_in = ["input_ids"] + ["past_%s_%d" % (kv, i) for i in range(layers) for kv in ("key", "value")]
    names_out = ["logits"] + ["present_%s_%d" % (kv, i) for i in range(layers) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for n in names_in[1:]:
        axes[n] = {0: "batch", 2: "past_seq"}
    for n in names_out[1:]:
        axes[n] = {0: "batch", 2: "total_seq"}
    return make, names_in, names_out, axes


def _dec(kind, seq, past_len, opsets, fast=()):
    make, i, o, a = decoder(kind, seq, past_len)
    return Spec(make, opsets, fast, input_names=i, output_names=o, dynamic_axes=a)


class EarlyExit(nn.Module):
    """A CNN classifier whose head depends on its own confidence: a cheap
    head when the first one is confident, a second, deeper head otherwise
    (scripted: an ONNX If on a computed condition)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fast = nn.Linear(32, 10)
        self.slow = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 10))

    def forward(self, x):
        f = self.features(x)
        logits = self.fast(f)
        p = torch.softmax(logits, dim=-1)
        if bool(p.max() > 0.2):
            out = p
        else:
            out = torch.softmax(self.slow(f) + logits, dim=-1)
        return out


class Refine(nn.Module):
    """Iterative refinement with a run-time number of steps (scripted: an
    ONNX Loop whose trip count is a graph input)."""

    def __init__(self, d=32):
        super().__init__()
        self.step = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, d))
        self.norm = nn.LayerNorm(d)

    def forward(self, x, steps):
        for _ in range(int(steps)):
            x = self.norm(x + 0.5 * self.step(x))
        return x


class Converge(nn.Module):
    """A fixed-point iteration that stops when the update is small or after
    20 steps (scripted: an ONNX Loop with a computed condition)."""

    def __init__(self, d=16):
        super().__init__()
        self.lin = nn.Linear(d, d)

    def forward(self, x):
        i = 0
        delta = torch.ones(1)
        while bool(delta.max() > 1e-3) and i < 20:
            nx = 0.5 * torch.tanh(self.lin(x)) + 0.5 * x
            delta = (nx - x).abs().amax(dim=-1)
            x = nx
            i += 1
        return x


def scripted(cls, *inputs):
    """`inputs`: functions making each example input (called after seeding)."""
    def make():
        return cls().eval(), tuple(f() for f in inputs)
    return make


ALL3 = [11, 13, 17]

TORCH_MODELS = {
    # classification (torchvision), 112x112 unless the model needs more
    "alexnet": Spec(tv("alexnet", size=224), [9] + ALL3),  # 112: adaptive pool 3 -> 6 does not export
    "resnet18": Spec(tv("resnet18"), [9] + ALL3, fast=[9, 17]),
    "resnet50": Spec(tv("resnet50"), ALL3),
    "resnext50_32x4d": Spec(tv("resnext50_32x4d"), ALL3),
    "wide_resnet50_2": Spec(tv("wide_resnet50_2"), ALL3),
    "mobilenet_v2": Spec(tv("mobilenet_v2"), [9] + ALL3, fast=[13]),
    "mobilenet_v3_small": Spec(tv("mobilenet_v3_small"), [9] + ALL3, fast=[17]),
    "mobilenet_v3_large": Spec(tv("mobilenet_v3_large"), ALL3),
    "efficientnet_b0": Spec(tv("efficientnet_b0"), ALL3),
    "efficientnet_v2_s": Spec(tv("efficientnet_v2_s"), ALL3),
    "regnet_x_400mf": Spec(tv("regnet_x_400mf"), ALL3),
    "regnet_y_400mf": Spec(tv("regnet_y_400mf"), ALL3, fast=[11]),
    "shufflenet_v2_x1_0": Spec(tv("shufflenet_v2_x1_0"), ALL3, fast=[11]),
    "squeezenet1_0": Spec(tv("squeezenet1_0"), ALL3),
    "squeezenet1_1": Spec(tv("squeezenet1_1"), [9] + ALL3, fast=[9]),
    "densenet121": Spec(tv("densenet121"), [9] + ALL3),
    "mnasnet1_0": Spec(tv("mnasnet1_0"), ALL3),
    "googlenet": Spec(tv("googlenet", init_weights=True), ALL3),
    "inception_v3": Spec(tv("inception_v3", size=160, init_weights=True, aux_logits=False), ALL3),
    "convnext_tiny": Spec(tv("convnext_tiny"), ALL3),
    "vit_b_16": Spec(tv("vit_b_16", image_size=112), ALL3),
    "swin_t": Spec(tv("swin_t"), ALL3),
    "swin_v2_t": Spec(tv("swin_v2_t"), ALL3),
    "maxvit_t": Spec(tv("maxvit_t", size=224), ALL3),
    # segmentation
    "deeplabv3_mobilenet_v3_large": Spec(tv_seg("deeplabv3_mobilenet_v3_large"), ALL3),
    "lraspp_mobilenet_v3_large": Spec(tv_seg("lraspp_mobilenet_v3_large"), ALL3, fast=[13]),
    "fcn_resnet50": Spec(tv_seg("fcn_resnet50"), ALL3),
    "deeplabv3_resnet50": Spec(tv_seg("deeplabv3_resnet50"), ALL3),
    # detection: FPN backbones, and one whole detector (data-dependent NMS)
    "fpn_resnet18": Spec(fpn_backbone("resnet18"), ALL3),
    "fpn_mobilenet_v3_large": Spec(fpn_backbone("mobilenet_v3_large"), ALL3),
    "ssdlite320_mobilenet_v3_large": Spec(detection("ssdlite320_mobilenet_v3_large"), [11, 17], calibrate=False),
    "fasterrcnn_mobilenet_v3_large_320_fpn": Spec(detection("fasterrcnn_mobilenet_v3_large_320_fpn"), [11, 17], calibrate=False),
    # video: 1x3x4x64x64 clips (s3d and mvit need 16 frames at 224)
    "r3d_18": Spec(tv_video("r3d_18"), ALL3, fast=[17]),
    "mc3_18": Spec(tv_video("mc3_18"), ALL3),
    "r2plus1d_18": Spec(tv_video("r2plus1d_18"), ALL3),
    "s3d": Spec(tv_video("s3d", t=16, size=224), [17]),
    # mvit_v2_s (16x224x224 only) is left out: its export took > 23 GB and was
    # killed for memory on the 24 GB reference machine
    # audio (torchaudio): base-size encoders with 4 of their 12 layers, 0.5 s of audio
    "wav2vec2_base_l4": Spec(audio("wav2vec2"), [13, 17], fast=[17]),
    "hubert_base_l4": Spec(audio("hubert"), [13, 17]),
    "conformer": Spec(conformer(), [13, 17], input_names=["input", "lengths"],
                      output_names=["output", "output_lengths"]),
    # PyTorch-written decoders with past key/values and dynamic axes
    "gpt2_decoder": _dec("gpt2", 4, 12, [13, 14, 17], fast=[17]),
    "llama_decoder": _dec("llama", 4, 12, [13, 14, 17], fast=[17]),
    "llama_decode_step": _dec("llama", 1, 15, [17]),
    # control flow decided at run time (torch.jit.script exports)
    "early_exit_cnn": Spec(scripted(EarlyExit, lambda: torch.randn(1, 3, 64, 64)), [13, 17],
                           fast=[17], script=True, input_names=["image"],
                           output_names=["probs"]),
    "refine_loop": Spec(scripted(Refine, lambda: torch.randn(2, 32), lambda: torch.tensor(4)), [13, 17],
                        fast=[17], script=True, input_names=["x", "steps"],
                        output_names=["y"], loomc_args=["--max-trip-count", "16"],
                        calibrate=False),
    "converge_while": Spec(scripted(Converge, lambda: torch.randn(2, 16)), [13, 17], script=True,
                           input_names=["x"], output_names=["y"], calibrate=False),
}
