# SPDX-License-Identifier: MIT
"""Float32 PyTorch builds of the two state-dict families, from their published architectures.

SRVGGNetCompact and RRDBNet as in xinntao/Real-ESRGAN (realesrgan/archs/srvgg_arch.py) and
BasicSR (basicsr/archs/rrdbnet_arch.py); the old ESRGAN key layout (`model.0`,
`model.1.sub.N.RDBk.convj.0`, from the original ESRGAN repository's RRDB_net) is renamed to the
new one, since both describe the same computation. Convolutions zero-pad by 1; no pre-padding.
"""
import re

import torch
import torch.nn.functional as F


class PthError(ValueError):
    pass


def load_state_dict(path):
    """torch.load of a zip or legacy .pth; params_ema before params, as Real-ESRGAN's inference
    does (realesrgan/utils.py)."""
    obj = torch.load(path, map_location="cpu")
    for key in ("params_ema", "params"):
        if isinstance(obj, dict) and key in obj:
            return obj[key], key
    return obj, None


def _conv(x, sd, name, act=None):
    y = F.conv2d(x, sd[name + ".weight"], sd[name + ".bias"], padding=1)
    return F.leaky_relu(y, 0.2) if act == "lrelu" else y


# ---- SRVGGNetCompact -----------------------------------------------------------------------------

def srvgg_shape(sd):
    """num_feat, num_conv and scale from the keys: body.0 conv, body.1 PReLU, then num_conv
    (conv, PReLU) pairs, then the last conv with 3 * scale^2 outputs."""
    convs = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"body\.(\d+)\.bias", k)))
    last = convs[-1]
    out_ch, in_ch = sd[f"body.{last}.weight"].shape[:2]
    scale = int(round((out_ch / 3) ** 0.5))
    if 3 * scale * scale != out_ch or sd["body.0.weight"].shape[1] != 3:
        raise PthError(f"SRVGGNetCompact: last conv has {out_ch} outputs, not 3 * scale^2")
    for i in range(1, last, 2):
        if sd.get(f"body.{i}.weight") is None or sd[f"body.{i}.weight"].dim() != 1:
            raise PthError(f"SRVGGNetCompact: body.{i} is not a PReLU (only act_type prelu is built)")
    return {"num_feat": int(in_ch), "num_conv": len(convs) - 2, "scale": scale}


def srvgg_forward(sd, x):
    last = 2 * (srvgg_shape(sd)["num_conv"] + 1)
    out = x
    for i in range(0, last, 2):
        out = F.conv2d(out, sd[f"body.{i}.weight"], sd[f"body.{i}.bias"], padding=1)
        out = F.prelu(out, sd[f"body.{i + 1}.weight"])
    out = F.conv2d(out, sd[f"body.{last}.weight"], sd[f"body.{last}.bias"], padding=1)
    scale = srvgg_shape(sd)["scale"]
    # the network learns the residual over the nearest-upsampled input
    return F.pixel_shuffle(out, scale) + F.interpolate(x, scale_factor=scale, mode="nearest")


# ---- RRDBNet -------------------------------------------------------------------------------------

def rename_old_esrgan(sd):
    """Old ESRGAN layout -> BasicSR names. model.0 = conv_first; model.1.sub.N.RDBk.convj.0 =
    body.N.rdbk.convj; model.1.sub.<nb> = conv_body; then per ×2 stage an (Upsample, conv,
    LeakyReLU) triple at 3, 6, ...; then conv_hr and conv_last (each after a LeakyReLU slot)."""
    out = {}
    tops = sorted({int(m.group(1)) for k in sd if (m := re.fullmatch(r"model\.(\d+)\.weight", k))})
    if tops[:1] != [0] or len(tops) < 3:
        raise PthError(f"old ESRGAN layout: unexpected top-level convs {tops}")
    ups = tops[1:-2]
    if ups != [3 * (i + 1) for i in range(len(ups))]:
        raise PthError(f"old ESRGAN layout: upsampling convs at {ups}, want 3, 6, ...")
    names = {0: "conv_first", tops[-2]: "conv_hr", tops[-1]: "conv_last"}
    names.update({u: f"conv_up{i + 1}" for i, u in enumerate(ups)})
    for key, value in sd.items():
        if m := re.fullmatch(r"model\.(\d+)\.(weight|bias)", key):
            out[f"{names[int(m.group(1))]}.{m.group(2)}"] = value
        elif m := re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)", key):
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = value
        elif m := re.fullmatch(r"model\.1\.sub\.(\d+)\.(weight|bias)", key):
            out[f"conv_body.{m.group(2)}"] = value
        else:
            raise PthError(f"old ESRGAN layout: unexpected key {key}")
    return out


def rrdb_shape(sd):
    block_key = r"body\.(\d+)\.rdb1\.conv1\.weight"
    blocks = {int(m.group(1)) for k in sd if (m := re.fullmatch(block_key, k))}
    ups = [k for k in sd if re.fullmatch(r"conv_up\d+\.weight", k)]
    return {"num_feat": int(sd["conv_first.weight"].shape[0]), "num_block": len(blocks),
            "num_grow_ch": int(sd["body.0.rdb1.conv1.weight"].shape[0]), "num_up": len(ups),
            "scale": 2 ** len(ups)}


def _rdb(x, sd, prefix):
    feats = [x]
    for j in range(1, 5):
        feats.append(_conv(torch.cat(feats, 1), sd, f"{prefix}.conv{j}", "lrelu"))
    return _conv(torch.cat(feats, 1), sd, f"{prefix}.conv5") * 0.2 + x


def rrdb_forward(sd, x):
    shape = rrdb_shape(sd)
    feat = _conv(x, sd, "conv_first")
    body = feat
    for n in range(shape["num_block"]):
        inner = body
        for k in range(1, 4):
            inner = _rdb(inner, sd, f"body.{n}.rdb{k}")
        body = inner * 0.2 + body
    feat = feat + _conv(body, sd, "conv_body")
    for i in range(1, shape["num_up"] + 1):
        feat = _conv(F.interpolate(feat, scale_factor=2, mode="nearest"), sd, f"conv_up{i}", "lrelu")
    return _conv(_conv(feat, sd, "conv_hr", "lrelu"), sd, "conv_last")


def identify(sd):
    """(family, state dict in the names the forward uses, shape facts), or PthError with the first
    keys when the keys match no family."""
    keys = list(sd)
    if "body.0.weight" in sd and "body.1.weight" in sd and sd["body.1.weight"].dim() == 1:
        return "srvgg", sd, srvgg_shape(sd)
    if "model.0.weight" in sd and any(".RDB1." in k for k in keys):
        renamed = rename_old_esrgan(sd)
        return "rrdb", renamed, rrdb_shape(renamed)
    raise PthError(f"no SRVGGNetCompact or ESRGAN keys; first keys: {keys[:4]}")


FORWARD = {"srvgg": srvgg_forward, "rrdb": rrdb_forward}
