#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Golden outputs of the community super-resolution networks, from an independent float32 reference.

Reads every network in ../shared/data/community (ncnn .param/.bin, PyTorch .pth, waifu2x JSON) with
this folder's own readers, runs it on small crops of examples/lighthouse.png with the border
semantics of the tool it was published for (README.md beside this file says which and why), and
writes test/fixtures/community/: the input PNGs, one gzip of little-endian float32 HWC per golden,
and manifest.json. Running it twice gives byte-identical files.

  /usr/bin/python3 scripts/goldens/community.py [--out DIR]
  /usr/bin/python3 scripts/goldens/community.py --check
  /usr/bin/python3 scripts/goldens/community.py --dump DIR --model ncnn/waifu2x-cunet/scale2.0x_model
"""
import argparse
import filecmp
import gzip
import hashlib
import io
import json
import os
import re
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ncnn_ref  # noqa: E402
import pth_ref  # noqa: E402
import waifu2x_json_ref  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA_REL = "../shared/data/community"
DATA = os.path.normpath(os.path.join(ROOT, DATA_REL))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "community")
SOURCE_IMAGE = "examples/lighthouse.png"

# Crops of the example picture: (x, y, w, h). 37×27 is odd and not a multiple of 4 (alignment
# padding shows); it holds a house, the striped tower, grass and rock. 5×3 is smaller than every
# network's border, so nearly all of what the graph sees is padding.
INPUTS = {"input.png": (96, 40, 37, 27), "input-tiny.png": (116, 50, 5, 3)}

# ---- border modes: what each upstream tool does around the graph --------------------------------

# name: (border, pad, align, crop offset in output pixels per pad pixel)
#  graph:             the graph alone on the whole image; its convolutions zero-pad as declared
#  reflect10:         realesrgan-ncnn-vulkan: reflect-101 pre-pad 10, run, crop 10*scale
#  waifu2x-edge:      waifu2x-ncnn-vulkan: edge pre-pad, bottom/right to a multiple of align,
#                     unpadded graph whose output starts at the image's first pixel
#  realcugan-reflect: realcugan-ncnn-vulkan: the same with reflect-101 (and, ×4, + nearest input)
#  waifu2x-json:      nagadomi/waifu2x reconstruct: edge pad by the model's offset, unpadded
MODES = {
    "graph": ("none", 0, 1, 0),
    "reflect10": ("reflect", 10, 1, 1),
    "waifu2x-edge": ("edge", None, None, 0),
    "realcugan-reflect": ("reflect", None, None, 0),
    "waifu2x-json": ("edge", None, 1, 0),
}

# One row per golden: model (under DATA, no extension), format, family, scale, mode, mode numbers
# (pad, align) where the mode has none of its own, inputs.
BOTH = ("input.png", "input-tiny.png")
MAIN = ("input.png",)
NETWORKS = [
    ("ncnn/realesrgan/realesr-animevideov3-x2", "ncnn", "srvgg", 2, "graph", {}, MAIN),
    ("ncnn/realesrgan/realesr-animevideov3-x3", "ncnn", "srvgg", 3, "graph", {}, BOTH),
    ("ncnn/realesrgan/realesr-animevideov3-x4", "ncnn", "srvgg", 4, "graph", {}, BOTH),
    ("ncnn/realesrgan/realesr-animevideov3-x4", "ncnn", "srvgg", 4, "reflect10", {}, MAIN),
    ("ncnn/realesrgan/realesrgan-x4plus-anime", "ncnn", "rrdb", 4, "graph", {}, MAIN),
    ("ncnn/waifu2x-upconv7/scale2.0x_model", "ncnn", "upconv7", 2, "waifu2x-edge",
     {"pad": 7, "align": 2}, BOTH),
    *[(f"ncnn/waifu2x-upconv7/noise{n}_scale2.0x_model", "ncnn", "upconv7", 2, "waifu2x-edge",
       {"pad": 7, "align": 2}, MAIN) for n in range(4)],
    ("ncnn/waifu2x-cunet/scale2.0x_model", "ncnn", "cunet", 2, "waifu2x-edge",
     {"pad": 18, "align": 2}, BOTH),
    *[(f"ncnn/waifu2x-cunet/noise{n}_scale2.0x_model", "ncnn", "cunet", 2, "waifu2x-edge",
       {"pad": 18, "align": 2}, MAIN) for n in (1, 3)],
    ("ncnn/waifu2x-cunet/noise1_model", "ncnn", "cunet", 1, "waifu2x-edge",
     {"pad": 28, "align": 4}, BOTH),
    *[(f"ncnn/realcugan/up2x-{v}", "ncnn", "realcugan", 2, "realcugan-reflect",
       {"pad": 18, "align": 2}, MAIN) for v in ("conservative", "no-denoise", "denoise3x")],
    ("ncnn/realcugan/up4x-no-denoise", "ncnn", "realcugan", 4, "realcugan-reflect",
     {"pad": 19, "align": 2}, MAIN),
    ("waifu2x-json/scale2.0x_model", "waifu2x-json", "vgg7", 2, "waifu2x-json", {}, BOTH),
    ("waifu2x-json/noise1_model", "waifu2x-json", "vgg7", 1, "waifu2x-json", {}, MAIN),
    ("pytorch/2x-AniScale", "pth", "srvgg", 2, "graph", {}, BOTH),
    ("pytorch/4x-NMKD-YandereNeo-Superlite", "pth", "rrdb", 4, "graph", {}, BOTH),
]
REFUSED = ["pytorch/4x_WTP_descreenton"]
EXTENSIONS = {"ncnn": (".param", ".bin"), "pth": (".pth",), "waifu2x-json": (".json",)}


def model_files(model, fmt):
    return [os.path.join(DATA, model + ext) for ext in EXTENSIONS[fmt]]


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- networks: a function (1, 3, h, w) -> (1, 3, H, W) per model file ---------------------------

def build(model, fmt, on_blob=None):
    """The graph alone (no border handling) and facts about it for the manifest."""
    paths = model_files(model, fmt)
    if fmt == "ncnn":
        net = ncnn_ref.load(*paths)
        return (lambda x: net.run(x, on_blob)), {"weights": net.weight_tags,
                                                  "inputBlob": net.input_blob,
                                                  "outputBlob": net.output_blob}
    if fmt == "pth":
        sd, key = pth_ref.load_state_dict(paths[0])
        family, sd, shape = pth_ref.identify(sd)
        forward = pth_ref.FORWARD[family]
        return (lambda x: forward(sd, x)), {"stateDictKey": key, **shape}
    config, convs = waifu2x_json_ref.load(paths[0])
    return (lambda x: waifu2x_json_ref.forward(convs, x)), {"modelConfig": config}


def mode_numbers(mode, extra, facts):
    border, pad, align, crop_per_pad = MODES[mode]
    if mode == "waifu2x-json":
        pad = facts["modelConfig"]["offset"]
    pad = extra.get("pad", pad)
    align = extra.get("align", align)
    return border, pad, align, crop_per_pad


def run_mode(graph, x, scale, mode, extra, facts):
    """Runs graph on x (1, 3, h, w) inside the border handling of `mode`; returns the output
    (1, 3, scale*h, scale*w) and the numbers that say what happened (for the manifest)."""
    border, pad, align, crop_per_pad = mode_numbers(mode, extra, facts)
    source = x
    pre_upscale = 1
    if mode == "waifu2x-json" and scale != facts["modelConfig"]["scale_factor"]:
        # waifu2x's scale_rgb: a scale_factor 1 network runs on the input enlarged by "Box"
        # (= nearest neighbour at an integer factor), then like a ×1 network
        pre_upscale = scale // facts["modelConfig"]["scale_factor"]
        x = F.interpolate(x, scale_factor=pre_upscale, mode="nearest")
    bottom = pad + (-x.shape[2]) % align
    right = pad + (-x.shape[3]) % align
    if border != "none":
        x = F.pad(x, (pad, right, pad, bottom), mode="reflect" if border == "reflect" else "replicate")
    y = graph(x)
    graph_output = list(y.shape[2:])
    out_h, out_w = scale * source.shape[2], scale * source.shape[3]
    top = crop_per_pad * pad * scale
    if y.shape[2] < top + out_h or y.shape[3] < top + out_w:
        raise ValueError(f"graph output {graph_output} is smaller than the {out_h}×{out_w} wanted")
    y = y[:, :, top:top + out_h, top:top + out_w]
    add_nearest = mode == "realcugan-reflect" and scale == 4
    if add_nearest:
        # realcugan_4x_postproc.comp adds the input, nearest-upsampled ×4, outside the graph
        y = y + F.interpolate(source, scale_factor=4, mode="nearest")
    numbers = {
        "border": border, "pad": pad, "align": align, "preUpscale": pre_upscale,
        "padded": {"top": pad, "right": right, "bottom": bottom, "left": pad},
        "graphInput": list(x.shape[2:]), "graphOutput": graph_output,
        "outputOffset": [top, top], "addNearestInput": add_nearest,
    }
    return y, numbers


# ---- files ---------------------------------------------------------------------------------------

def read_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def to_tensor(rgb8):
    """HWC uint8 -> (1, 3, h, w) float32 in 0..1 (value / 255)."""
    x = rgb8.astype(np.float32) / np.float32(255)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def to_hwc(y):
    return np.ascontiguousarray(y[0].detach().numpy().transpose(1, 2, 0), dtype="<f4")


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def gzip_bytes(data):
    buf = io.BytesIO()
    # mtime 0 and no file name: the same floats give the same bytes
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def png_bytes(rgb8):
    buf = io.BytesIO()
    Image.fromarray(rgb8, "RGB").save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def compact_number_lists(text):
    """json.dumps(indent=2) puts each number of a list on its own line; keep such lists on one."""
    return re.sub(r"\[\s+([-0-9.e, \n]+?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)


def golden_name(model, mode, default_mode, input_name):
    suffix = "" if mode == default_mode else f".{mode}"
    if input_name != "input.png":
        suffix += "." + input_name[len("input-"):-len(".png")]
    return f"golden/{model}{suffix}.f32.gz"


def default_modes():
    seen = {}
    for model, _, _, _, mode, _, _ in NETWORKS:
        seen.setdefault(model, mode)
    return seen


def make_inputs(out_dir):
    source = read_rgb(os.path.join(ROOT, SOURCE_IMAGE))
    records = {}
    images = {}
    for name, (x, y, w, h) in INPUTS.items():
        rgb8 = np.ascontiguousarray(source[y:y + h, x:x + w])
        data = png_bytes(rgb8)
        write_file(os.path.join(out_dir, name), data)
        images[name] = rgb8
        records[name] = {"source": SOURCE_IMAGE, "crop": {"x": x, "y": y, "w": w, "h": h},
                         "sha256": hashlib.sha256(data).hexdigest()}
    return images, records


def refused_record(model):
    path = model_files(model, "pth")[0]
    sd, key = pth_ref.load_state_dict(path)
    try:
        pth_ref.identify(sd)
    except pth_ref.PthError as err:
        prefixes = sorted({k.split(".")[0] for k in sd})
        files = [{"name": os.path.basename(path), "sha256": sha256_file(path)}]
        return {"model": model, "files": files,
                "format": "pth", "stateDictKey": key, "keyCount": len(sd), "keyPrefixes": prefixes,
                "firstKeys": list(sd)[:4], "reason": str(err),
                "note": "keys match OmniSR as spandrel detects it (residual_layer.0.residual_layer.0."
                        "layer.0.fn.0.weight, input.weight, up.0.weight): outside the families"}
    raise ValueError(f"{model} was expected to be refused but matched a family")


def generate(out_dir):
    images, input_records = make_inputs(out_dir)
    defaults = default_modes()
    goldens = []
    for model, fmt, family, scale, mode, extra, inputs in NETWORKS:
        graph, facts = build(model, fmt)
        for input_name in inputs:
            y, numbers = run_mode(graph, to_tensor(images[input_name]), scale, mode, extra, facts)
            hwc = to_hwc(y)
            name = golden_name(model, mode, defaults[model], input_name)
            write_file(os.path.join(out_dir, name), gzip_bytes(hwc.tobytes()))
            goldens.append({
                "model": model,
                "files": [{"name": os.path.basename(p), "sha256": sha256_file(p)}
                          for p in model_files(model, fmt)],
                "format": fmt, "family": family, "scale": scale, "input": input_name,
                "mode": mode, **numbers,
                "output": list(hwc.shape), "golden": name,
                "range": [round(float(hwc.min()), 6), round(float(hwc.max()), 6)],
                "facts": facts,
            })
            print(f"{name}: {hwc.shape[0]}×{hwc.shape[1]}, {mode}", flush=True)
    manifest = {
        "generator": "scripts/goldens/community.py (see scripts/goldens/README.md)",
        "dataRoot": DATA_REL,
        "encoding": "gzip of little-endian float32, HWC (h × w × 3), RGB, "
                    "the network's output unclamped",
        "inputValues": "RGB 8-bit / 255 as float32",
        "inputs": input_records,
        "goldens": goldens,
        "refused": [refused_record(m) for m in REFUSED],
    }
    text = compact_number_lists(json.dumps(manifest, indent=2, ensure_ascii=False)) + "\n"
    write_file(os.path.join(out_dir, "manifest.json"), text.encode("utf-8"))


def dump(dump_dir, model, input_name):
    """Every blob of one ncnn network (and the golden's output) as .npy, CHW float32."""
    rows = [r for r in NETWORKS if r[0] == model]
    if not rows or rows[0][1] != "ncnn":
        raise SystemExit(f"--model must name an ncnn network of the table, e.g. {NETWORKS[0][0]}")
    _, fmt, _, scale, mode, extra, _ = rows[0]
    os.makedirs(dump_dir, exist_ok=True)
    index = []

    def on_blob(layer, blob, value):
        file = f"{len(index):03d}_{re.sub(r'[^A-Za-z0-9._-]', '_', blob)}.npy"
        array = value[0] if value.dim() == 4 else value
        np.save(os.path.join(dump_dir, file), array.detach().numpy().astype(np.float32))
        index.append({"layer": layer.name, "type": layer.kind, "blob": blob, "file": file,
                      "shape": list(array.shape)})

    graph, facts = build(model, fmt, on_blob)
    rgb8 = read_rgb(os.path.join(FIXTURES, input_name))
    y, numbers = run_mode(graph, to_tensor(rgb8), scale, mode, extra, facts)
    np.save(os.path.join(dump_dir, "golden.npy"), y[0].detach().numpy())
    with open(os.path.join(dump_dir, "index.json"), "w", encoding="utf-8") as f:
        json.dump({"model": model, "mode": mode, **numbers, "blobs": index}, f, indent=2)
        f.write("\n")
    print(f"{len(index)} blobs of {model} in {dump_dir}")


def check(fixtures):
    """Regenerates into a temporary folder and compares byte for byte with the committed files."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        made = {os.path.relpath(os.path.join(d, f), tmp) for d, _, fs in os.walk(tmp) for f in fs}
        have = {os.path.relpath(os.path.join(d, f), fixtures)
                for d, _, fs in os.walk(fixtures) for f in fs}
        differ = sorted(made ^ have) + sorted(
            f for f in made & have
            if not filecmp.cmp(os.path.join(tmp, f), os.path.join(fixtures, f), shallow=False))
    for name in differ:
        print(f"differs: {name}")
    print("fixtures are current" if not differ else f"{len(differ)} files differ")
    return 1 if differ else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=FIXTURES,
                        help="fixture folder (default test/fixtures/community)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate in a temporary folder and compare with --out byte for byte")
    parser.add_argument("--dump", metavar="DIR", help="write every blob of --model as .npy into DIR")
    parser.add_argument("--model", help="with --dump: an ncnn model path as in the manifest")
    parser.add_argument("--input", default="input.png", help="with --dump: input file in the fixtures")
    args = parser.parse_args()
    # one thread and deterministic kernels: the same float sums on every run
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.dump:
        dump(args.dump, args.model, args.input)
    elif args.check:
        sys.exit(check(args.out))
    else:
        generate(args.out)


if __name__ == "__main__":
    main()
