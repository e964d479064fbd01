# SPDX-License-Identifier: MIT
"""Small synthetic state-dict networks for what ../shared's files do not cover, with their goldens:

- rrdb-x2plus.pth: BasicSR's RRDBNet at scale 2 (the input pixel-unshuffled by 2, as Real-ESRGAN's
  RealESRGAN_x2plus), holding both `params_ema` and `params` (different weights: the golden uses
  params_ema, as Real-ESRGAN's inference does).
- srvgg-x3.safetensors: SRVGGNetCompact at ×3, written by hand in the safetensors layout (header JSON
  + little-endian data), not by any library the TypeScript reader shares.

Goldens follow RealESRGANer's inference: a ×2 RRDBNet's input is reflect-padded at its bottom/right to
even sides, and the output cropped back. Run with Debian's python3-torch:
  /usr/bin/python3 scripts/goldens/synthetic.py
"""
import gzip
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pth_ref import rrdb_forward, srvgg_forward

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "community", "synthetic")


def rand(gen, *shape, scale=0.2):
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * 2 - 1) * scale


def rrdb_state(gen, nf=8, gc=4, nb=1, in_ch=12):
    sd = {}
    def conv(name, cout, cin):
        sd[name + ".weight"] = rand(gen, cout, cin, 3, 3, scale=1 / (cin * 9) ** 0.5)
        sd[name + ".bias"] = rand(gen, cout, scale=0.05)
    conv("conv_first", nf, in_ch)
    for b in range(nb):
        for r in range(1, 4):
            for j in range(1, 6):
                conv(f"body.{b}.rdb{r}.conv{j}", nf if j == 5 else gc, nf + (j - 1) * gc)
    conv("conv_body", nf, nf)
    conv("conv_up1", nf, nf)
    conv("conv_up2", nf, nf)
    conv("conv_hr", nf, nf)
    conv("conv_last", 3, nf)
    return sd


def srvgg_state(gen, nf=6, n=3, scale=3):
    sd = {}
    cin = 3
    for i in range(n + 1):
        sd[f"body.{2 * i}.weight"] = rand(gen, nf, cin, 3, 3, scale=1 / (cin * 9) ** 0.5)
        sd[f"body.{2 * i}.bias"] = rand(gen, nf, scale=0.05)
        sd[f"body.{2 * i + 1}.weight"] = torch.full((nf,), 0.25) + rand(gen, nf, scale=0.05)
        cin = nf
    sd[f"body.{2 * (n + 1)}.weight"] = rand(gen, 3 * scale * scale, nf, 3, 3, scale=1 / (nf * 9) ** 0.5)
    sd[f"body.{2 * (n + 1)}.bias"] = rand(gen, 3 * scale * scale, scale=0.05)
    return sd


def write_safetensors(path, sd):
    header, blobs, at = {}, [], 0
    for name, t in sd.items():
        data = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(data)]}
        blobs.append(data)
        at += len(data)
    header["__metadata__"] = {"format": "pt"}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def image(name):
    px = np.asarray(Image.open(os.path.join(HERE, "..", "..", "test", "fixtures", "community", name)).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(px / 255.0).permute(2, 0, 1)[None]


def golden(path, y):
    hwc = y[0].permute(1, 2, 0).contiguous().numpy().astype("<f4").tobytes()
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
        g.write(hwc)


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261207)
    ema, plain = rrdb_state(gen), rrdb_state(gen)
    torch.save({"params_ema": ema, "params": plain}, os.path.join(OUT, "rrdb-x2plus.pth"))
    srvgg = srvgg_state(gen)
    write_safetensors(os.path.join(OUT, "srvgg-x3.safetensors"), srvgg)
    entries = []
    with torch.no_grad():
        for name in ("input.png", "input-tiny.png"):
            x = image(name)
            h, w = x.shape[2], x.shape[3]
            # RealESRGANer: reflect-pad to even sides, pixel_unshuffle, the network, crop.
            xp = F.pad(x, (0, w % 2, 0, h % 2), mode="reflect") if (h % 2 or w % 2) else x
            y = rrdb_forward(ema, F.pixel_unshuffle(xp, 2))[:, :, : 2 * h, : 2 * w]
            tag = "" if name == "input.png" else ".tiny"
            golden(os.path.join(OUT, f"rrdb-x2plus{tag}.f32.gz"), y)
            entries.append({"file": "rrdb-x2plus.pth", "family": "rrdb", "scale": 2, "input": name, "output": [2 * h, 2 * w, 3], "golden": f"synthetic/rrdb-x2plus{tag}.f32.gz"})
            y = srvgg_forward(srvgg, x)
            golden(os.path.join(OUT, f"srvgg-x3{tag}.f32.gz"), y)
            entries.append({"file": "srvgg-x3.safetensors", "family": "srvgg", "scale": 3, "input": name, "output": [3 * h, 3 * w, 3], "golden": f"synthetic/srvgg-x3{tag}.f32.gz"})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/goldens/synthetic.py", "goldens": entries}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
