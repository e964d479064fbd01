# SPDX-License-Identifier: MIT
"""An independent float32 reader and interpreter for ncnn .param/.bin networks, in PyTorch.

Written from Tencent/ncnn's sources (src/paramdict.cpp, src/modelbin.cpp, src/layer/*.cpp) as the
test oracle for the TypeScript importer; it shares nothing with it. It runs only the layer types
and parameter values the community networks use and refuses anything else by name, so a golden
never rests on a guess. Blobs are NCHW tensors with N = 1, except the 1-D outputs of global
pooling and InnerProduct, which are tensors of shape (C,) as in ncnn.
"""
import struct

import numpy as np
import torch
import torch.nn.functional as F

PARAM_MAGIC = 7767517

# src/modelbin.cpp: the 4-byte tag before every "type 0" weight array.
TAG_FP16 = 0x01306B47
TAG_INT8 = 0x000D4B38
TAG_FP32 = 0x0002C056


class NcnnError(ValueError):
    pass


class Layer:
    def __init__(self, kind, name, bottoms, tops, params):
        self.kind = kind
        self.name = name
        self.bottoms = bottoms
        self.tops = tops
        self.params = params
        self.weights = {}

    def get(self, pid, default):
        return self.params.get(pid, default)


def _param_value(text):
    # src/paramdict.cpp (vstr_is_float): a value with '.', 'e' or 'E' is a float, else an int.
    if any(ch in text for ch in ".eE"):
        return float(np.float32(float(text)))
    return int(text)


def parse_param(text):
    """The layer list of a text .param file (src/paramdict.cpp and Net::load_param)."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if int(lines[0][0]) != PARAM_MAGIC:
        raise NcnnError(f"not an ncnn text .param (magic {lines[0][0]}, want {PARAM_MAGIC})")
    layer_count = int(lines[1][0])
    layers = []
    for fields in lines[2:]:
        kind, name = fields[0], fields[1]
        n_in, n_out = int(fields[2]), int(fields[3])
        bottoms = fields[4:4 + n_in]
        tops = fields[4 + n_in:4 + n_in + n_out]
        params = {}
        for item in fields[4 + n_in + n_out:]:
            key, value = item.split("=", 1)
            pid = int(key)
            if pid <= -23300:
                # "-23300-id=len,v0,v1,...": an array parameter
                values = value.split(",")
                if int(values[0]) != len(values) - 1:
                    raise NcnnError(f"{name}: array {key} says {values[0]} values, "
                                    f"has {len(values) - 1}")
                params[-pid - 23300] = [_param_value(v) for v in values[1:]]
            else:
                params[pid] = _param_value(value)
        layers.append(Layer(kind, name, bottoms, tops, params))
    if len(layers) != layer_count:
        raise NcnnError(f"header says {layer_count} layers, file has {len(layers)}")
    return layers


class _BinReader:
    """src/modelbin.cpp ModelBinFromDataReader::load(w, type)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.tags = set()

    def _take(self, count):
        if self.pos + count > len(self.data):
            raise NcnnError(f".bin ends at byte {len(self.data)}, needed {self.pos + count}")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def raw_f32(self, count):
        """type 1: count little-endian float32, no tag (biases, PReLU slopes, Scale data)."""
        return np.frombuffer(self._take(4 * count), dtype="<f4").copy()

    def tagged(self, count):
        """type 0: a tag, then fp16 (padded to 4 bytes) or fp32 values."""
        (tag,) = struct.unpack("<I", self._take(4))
        if tag == TAG_FP16:
            self.tags.add("fp16")
            padded = (2 * count + 3) // 4 * 4
            return np.frombuffer(self._take(padded)[:2 * count], dtype="<f2").astype(np.float32)
        if tag in (0, TAG_FP32):
            self.tags.add("fp32")
            return self.raw_f32(count)
        if tag == TAG_INT8:
            raise NcnnError("int8 weights (tag 0x000D4B38) are not supported by the reference")
        raise NcnnError(f"quantised weight table (tag 0x{tag:08X}) is not supported by the reference")


def load_bin(layers, data):
    """Reads each layer's weights in layer order, as the layers' load_model() do."""
    reader = _BinReader(data)
    for layer in layers:
        kind = layer.kind
        if kind in ("Convolution", "Deconvolution", "InnerProduct"):
            size_id = 2 if kind == "InnerProduct" else 6
            bias_id = 1 if kind == "InnerProduct" else 5
            if kind != "InnerProduct" and layer.get(19 if kind == "Convolution" else 28, 0):
                raise NcnnError(f"{layer.name}: dynamic weights are not supported")
            if kind != "Deconvolution" and layer.get(8, 0):
                raise NcnnError(f"{layer.name}: int8 quantised layer (8=int8_scale_term) not supported")
            layer.weights["weight"] = reader.tagged(layer.get(size_id, 0))
            if layer.get(bias_id, 0):
                layer.weights["bias"] = reader.raw_f32(layer.get(0, 0))
        elif kind == "PReLU":
            layer.weights["slope"] = reader.raw_f32(layer.get(0, 0))
        elif kind == "Scale":
            size = layer.get(0, 0)
            if size != -233:
                layer.weights["scale"] = reader.raw_f32(size)
                if layer.get(1, 0):
                    layer.weights["bias"] = reader.raw_f32(size)
        elif kind not in _WEIGHTLESS:
            raise NcnnError(f"{layer.name}: layer type {kind} is not supported by the reference")
    if reader.pos != len(data):
        raise NcnnError(f".bin has {len(data) - reader.pos} bytes after the last layer's weights")
    return sorted(reader.tags)


_WEIGHTLESS = {"Input", "Split", "Concat", "Crop", "Pooling", "BinaryOp", "Eltwise", "Interp",
               "PixelShuffle"}


# ---- layers --------------------------------------------------------------------------------------

def _activate(x, layer):
    # src/layer/fused_activation.h: 9=activation_type, 10=activation_params
    kind = layer.get(9, 0)
    params = layer.get(10, [])
    if kind == 0:
        return x
    if kind == 1:
        return torch.relu(x)
    if kind == 2:
        slope = params[0] if params else 0.0
        return torch.where(x > 0, x, x * slope)
    if kind == 4:
        return torch.sigmoid(x)
    raise NcnnError(f"{layer.name}: activation_type {kind} not supported by the reference")


def _reject_params(layer, allowed):
    extra = sorted(set(layer.params) - set(allowed))
    if extra:
        raise NcnnError(f"{layer.name}: {layer.kind} param ids {extra} not supported by the reference")


def _pads(layer, ids):
    # Convolution/Deconvolution: 4=pad_left, 15=pad_right (default left), 14=pad_top (default left),
    # 16=pad_bottom (default top)
    left = layer.get(ids[0], 0)
    right = layer.get(ids[1], left)
    top = layer.get(ids[2], left)
    bottom = layer.get(ids[3], top)
    if min(left, right, top, bottom) < 0:
        raise NcnnError(f"{layer.name}: SAME padding (-233/-234) not supported by the reference")
    return left, right, top, bottom


def convolution(layer, x):
    """src/layer/convolution.cpp: weight [out][in][kh][kw], cross-correlation, pad with 18=pad_value."""
    _reject_params(layer, {0, 1, 11, 2, 12, 3, 13, 4, 15, 14, 16, 18, 5, 6, 9, 10})
    out_c = layer.get(0, 0)
    kw = layer.get(1, 0)
    kh = layer.get(11, kw)
    dw = layer.get(2, 1)
    dh = layer.get(12, dw)
    sw = layer.get(3, 1)
    sh = layer.get(13, sw)
    left, right, top, bottom = _pads(layer, (4, 15, 14, 16))
    in_c = layer.get(6, 0) // (out_c * kw * kh)
    if in_c != x.shape[1]:
        raise NcnnError(f"{layer.name}: weights expect {in_c} input channels, blob has {x.shape[1]}")
    weight = torch.from_numpy(layer.weights["weight"]).reshape(out_c, in_c, kh, kw)
    bias = torch.from_numpy(layer.weights["bias"]) if "bias" in layer.weights else None
    if left or right or top or bottom:
        x = F.pad(x, (left, right, top, bottom), value=float(layer.get(18, 0.0)))
    return _activate(F.conv2d(x, weight, bias, stride=(sh, sw), dilation=(dh, dw)), layer)


def deconvolution(layer, x):
    """src/layer/deconvolution.cpp: weight [out][in][kh][kw], out[y*s + ky] += in[y] * w[ky] (no
    flip), full output (h - 1) * s + extent + output_pad, then the pads are cut off."""
    _reject_params(layer, {0, 1, 11, 2, 12, 3, 13, 4, 15, 14, 16, 18, 19, 5, 6, 9, 10})
    out_c = layer.get(0, 0)
    kw = layer.get(1, 0)
    kh = layer.get(11, kw)
    dw = layer.get(2, 1)
    dh = layer.get(12, dw)
    sw = layer.get(3, 1)
    sh = layer.get(13, sw)
    left, right, top, bottom = _pads(layer, (4, 15, 14, 16))
    out_pad_right = layer.get(18, 0)
    out_pad_bottom = layer.get(19, out_pad_right)
    in_c = layer.get(6, 0) // (out_c * kw * kh)
    if in_c != x.shape[1]:
        raise NcnnError(f"{layer.name}: weights expect {in_c} input channels, blob has {x.shape[1]}")
    # PyTorch's conv_transpose2d takes [in][out][kh][kw] and computes the same un-flipped scatter.
    weight = torch.from_numpy(layer.weights["weight"]).reshape(out_c, in_c, kh, kw).transpose(0, 1)
    full = F.conv_transpose2d(x, weight.contiguous(), None, stride=(sh, sw), dilation=(dh, dw))
    if out_pad_right or out_pad_bottom:
        full = F.pad(full, (0, out_pad_right, 0, out_pad_bottom))
    if "bias" in layer.weights:
        full = full + torch.from_numpy(layer.weights["bias"]).reshape(1, -1, 1, 1)
    full = _activate(full, layer)
    h, w = full.shape[2], full.shape[3]
    return full[:, :, top:h - bottom, left:w - right]


def inner_product(layer, x):
    """src/layer/innerproduct.cpp: weight [out][in] on the flattened blob; 1-D result."""
    _reject_params(layer, {0, 1, 2, 9, 10})
    out_c = layer.get(0, 0)
    flat = x.reshape(-1)
    weight = torch.from_numpy(layer.weights["weight"]).reshape(out_c, flat.shape[0])
    y = weight @ flat
    if "bias" in layer.weights:
        y = y + torch.from_numpy(layer.weights["bias"])
    return _activate(y, layer)


def prelu(layer, x):
    """src/layer/prelu.cpp: one slope per channel, or 0=1 slope shared by all."""
    _reject_params(layer, {0})
    slope = torch.from_numpy(layer.weights["slope"])
    slope = slope.reshape(1, -1, 1, 1) if slope.numel() > 1 else slope.reshape(1, 1, 1, 1)
    return torch.where(x > 0, x, x * slope)


def _per_channel(v, like):
    return v.reshape(1, -1, 1, 1) if like.dim() == 4 else v


def scale(layer, inputs):
    """src/layer/scale.cpp: x * scale[c] (+ bias[c]); 0=-233 takes the scale from a second blob."""
    _reject_params(layer, {0, 1})
    x = inputs[0]
    if layer.get(0, 0) == -233:
        s = inputs[1].reshape(-1)
    else:
        s = torch.from_numpy(layer.weights["scale"])
    if s.numel() != x.shape[1]:
        raise NcnnError(f"{layer.name}: {s.numel()} scales for {x.shape[1]} channels")
    y = x * _per_channel(s, x)
    if "bias" in layer.weights:
        y = y + _per_channel(torch.from_numpy(layer.weights["bias"]), x)
    return y


def pooling(layer, x):
    """src/layer/pooling.cpp, global average only (0=1 4=1): the mean over all w*h of each
    channel, a 1-D blob. Over the whole blob given, never per tile."""
    _reject_params(layer, {0, 4})
    if layer.get(0, 0) != 1 or layer.get(4, 0) != 1:
        raise NcnnError(f"{layer.name}: only global average pooling is supported by the reference")
    return x.mean(dim=(2, 3)).reshape(-1)


def _broadcast(a, b, name):
    # ncnn's broadcasting (src/layer/binaryop.cpp): equal shapes, or a 1-D blob whose length is the
    # other blob's channel count, applied per channel.
    if a.shape == b.shape:
        return a, b
    if b.dim() == 1 and a.dim() == 4 and b.shape[0] == a.shape[1]:
        return a, b.reshape(1, -1, 1, 1)
    if a.dim() == 1 and b.dim() == 4 and a.shape[0] == b.shape[1]:
        return a.reshape(1, -1, 1, 1), b
    raise NcnnError(f"{name}: cannot broadcast {tuple(a.shape)} with {tuple(b.shape)}")


def binary_op(layer, inputs):
    """src/layer/binaryop.cpp: 0=op_type (0 add, 2 mul here) of two blobs (1=with_scalar 0)."""
    _reject_params(layer, {0})
    op = layer.get(0, 0)
    a, b = _broadcast(inputs[0], inputs[1], layer.name)
    if op == 0:
        return a + b
    if op == 2:
        return a * b
    raise NcnnError(f"{layer.name}: BinaryOp op_type {op} not supported by the reference")


def eltwise(layer, inputs):
    """src/layer/eltwise.cpp, 0=1 (sum): sum of input[i] * coeffs[i] (1=coeffs, all 1 if absent)."""
    _reject_params(layer, {0, 1})
    if layer.get(0, 0) != 1:
        raise NcnnError(f"{layer.name}: Eltwise op_type {layer.get(0, 0)} not supported")
    coeffs = layer.get(1, [1.0] * len(inputs))
    if len(coeffs) != len(inputs):
        raise NcnnError(f"{layer.name}: {len(coeffs)} coeffs for {len(inputs)} inputs")
    out = inputs[0] * coeffs[0]
    for x, c in zip(inputs[1:], coeffs[1:]):
        out = out + x * c
    return out


def crop(layer, inputs):
    """src/layer/crop.cpp, the two forms these networks use: numpy-style slices (9=starts,
    10=ends, 11=axes; a negative end counts from the end), and a reference blob giving the output
    w/h with 0=woffset, 1=hoffset."""
    x = inputs[0]
    h, w = x.shape[2], x.shape[3]
    if 9 in layer.params or 10 in layer.params:
        _reject_params(layer, {9, 10, 11})
        starts, ends = layer.get(9, []), layer.get(10, [])
        axes = layer.get(11, list(range(len(starts))))
        y0, y1, x0, x1 = 0, h, 0, w
        for start, end, axis in zip(starts, ends, axes):
            axis = axis + 3 if axis < 0 else axis  # a 3-D blob: 0=c, 1=h, 2=w
            if axis not in (1, 2) or start < 0 or end == -233:
                raise NcnnError(f"{layer.name}: crop axis {axis} start {start} end {end} not supported")
            size = h if axis == 1 else w
            stop = min(size, end if end > 0 else size + end)
            if axis == 1:
                y0, y1 = start, stop
            else:
                x0, x1 = start, stop
        return x[:, :, y0:y1, x0:x1]
    if len(inputs) == 2:
        _reject_params(layer, {0, 1})
        ref = inputs[1]
        wo, ho = layer.get(0, 0), layer.get(1, 0)
        return x[:, :, ho:ho + ref.shape[2], wo:wo + ref.shape[3]]
    raise NcnnError(f"{layer.name}: this Crop form is not supported by the reference")


def _cubic_coeffs(size, out_size):
    """src/layer/interp.cpp cubic_coeffs (align_corner 0) as a dense [out_size, size] matrix:
    Keys cubic with A = -0.75, half-pixel centres, fx computed in double then float; the edge
    rules fold taps outside the image onto its first/last pixel (= clamping the index)."""
    a = np.float32(-0.75)
    one = np.float32(1)
    scale_d = float(size) / float(out_size)
    m = np.zeros((out_size, size), dtype=np.float32)
    for dx in range(out_size):
        fx = np.float32((dx + 0.5) * scale_d - 0.5)
        sx = int(np.floor(fx))
        fx = np.float32(fx - np.float32(sx))
        fx0, fx1, fx2 = fx + one, fx, one - fx
        c0 = a * fx0 * fx0 * fx0 - 5 * a * fx0 * fx0 + 8 * a * fx0 - 4 * a
        c1 = (a + 2) * fx1 * fx1 * fx1 - (a + 3) * fx1 * fx1 + one
        c2 = (a + 2) * fx2 * fx2 * fx2 - (a + 3) * fx2 * fx2 + one
        c3 = one - c0 - c1 - c2
        c = [np.float32(c0), np.float32(c1), np.float32(c2), np.float32(c3)]
        if sx <= -1:
            sx, c = 1, [one - c[3], c[3], np.float32(0), np.float32(0)]
        if sx == 0:
            sx, c = 1, [c[0] + c[1], c[2], c[3], np.float32(0)]
        if sx == size - 2:
            sx, c = size - 3, [np.float32(0), c[0], c[1], c[2] + c[3]]
        if sx >= size - 1:
            sx, c = size - 3, [np.float32(0), np.float32(0), c[0], one - c[0]]
        for k in range(4):
            m[dx, sx - 1 + k] += c[k]
    return torch.from_numpy(m)


def interp(layer, x):
    """src/layer/interp.cpp: 0=resize_type (1 nearest, 3 bicubic), 1=height_scale,
    2=width_scale, 3/4=output height/width; the output size is int(size * scale) in float."""
    _reject_params(layer, {0, 1, 2, 3, 4, 6})
    if layer.get(6, 0):
        raise NcnnError(f"{layer.name}: align_corner=1 not supported by the reference")
    h, w = x.shape[2], x.shape[3]
    hs, ws = np.float32(layer.get(1, 1.0)), np.float32(layer.get(2, 1.0))
    out_h, out_w = layer.get(3, 0), layer.get(4, 0)
    if out_h == 0 or out_w == 0:
        out_h, out_w = int(np.float32(h) * hs), int(np.float32(w) * ws)
    if out_h == h and out_w == w:
        return x
    kind = layer.get(0, 0)
    if kind == 1:
        # in_y = min(int(y * (1 / height_scale)), h - 1), in float (or h / out_h with an output size)
        step_y = np.float32(h) / np.float32(out_h) if layer.get(3, 0) else np.float32(1) / hs
        step_x = np.float32(w) / np.float32(out_w) if layer.get(4, 0) else np.float32(1) / ws
        iy = [min(int(np.float32(y) * step_y), h - 1) for y in range(out_h)]
        ix = [min(int(np.float32(v) * step_x), w - 1) for v in range(out_w)]
        return x[:, :, iy][:, :, :, ix]
    if kind == 3:
        if h < 4 or w < 4:
            raise NcnnError(f"{layer.name}: bicubic on a blob under 4 pixels is not supported")
        my = _cubic_coeffs(h, out_h)
        mx = _cubic_coeffs(w, out_w)
        # ncnn resizes rows first, then columns; a float32 matmul keeps the same sums
        return torch.matmul(my, torch.matmul(x, mx.t()))
    raise NcnnError(f"{layer.name}: resize_type {kind} not supported by the reference")


def pixel_shuffle(layer, x):
    """src/layer/pixelshuffle.cpp mode 0: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]."""
    _reject_params(layer, {0, 1})
    if layer.get(1, 0) != 0:
        raise NcnnError(f"{layer.name}: PixelShuffle mode 1 not supported by the reference")
    return F.pixel_shuffle(x, layer.get(0, 1))


def concat(layer, inputs):
    """src/layer/concat.cpp: 0=axis, 0 = channels of a 3-D blob."""
    _reject_params(layer, {0})
    if layer.get(0, 0) != 0:
        raise NcnnError(f"{layer.name}: Concat axis {layer.get(0, 0)} not supported")
    return torch.cat(inputs, dim=1)


_SINGLE = {"Convolution": convolution, "Deconvolution": deconvolution,
           "InnerProduct": inner_product, "PReLU": prelu, "Pooling": pooling, "Interp": interp,
           "PixelShuffle": pixel_shuffle}
_MULTI = {"Scale": scale, "BinaryOp": binary_op, "Eltwise": eltwise, "Crop": crop,
          "Concat": concat}


class NcnnNet:
    """A parsed network: layers with weights, its input blob and its output blob."""

    def __init__(self, param_text, bin_bytes):
        self.layers = parse_param(param_text)
        self.weight_tags = load_bin(self.layers, bin_bytes)
        inputs = [l for l in self.layers if l.kind == "Input"]
        if len(inputs) != 1:
            raise NcnnError(f"want one Input layer, found {len(inputs)}")
        self.input_blob = inputs[0].tops[0]
        consumed = {b for l in self.layers for b in l.bottoms}
        outputs = [t for l in self.layers for t in l.tops if t not in consumed]
        if len(outputs) != 1:
            raise NcnnError(f"want one unconsumed output blob, found {outputs}")
        self.output_blob = outputs[0]

    def run(self, x, on_blob=None):
        """x: (1, 3, h, w) float32. on_blob(layer, blob_name, tensor) sees every blob made."""
        blobs = {self.input_blob: x}
        for layer in self.layers:
            if layer.kind == "Input":
                outs = [x]
            elif layer.kind == "Split":
                outs = [blobs[layer.bottoms[0]]] * len(layer.tops)
            elif layer.kind in _SINGLE:
                outs = [_SINGLE[layer.kind](layer, blobs[layer.bottoms[0]])]
            else:
                outs = [_MULTI[layer.kind](layer, [blobs[b] for b in layer.bottoms])]
            for name, value in zip(layer.tops, outs):
                blobs[name] = value
                if on_blob:
                    on_blob(layer, name, value)
        return blobs[self.output_blob]


def load(param_path, bin_path):
    with open(param_path, encoding="utf-8") as f:
        text = f.read()
    with open(bin_path, "rb") as f:
        data = f.read()
    return NcnnNet(text, data)
