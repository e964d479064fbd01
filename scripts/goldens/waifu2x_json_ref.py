# SPDX-License-Identifier: MIT
"""waifu2x's JSON networks (vgg_7), read and run in float32 as nagadomi/waifu2x does.

The JSON is a list of torch7 layers written by waifu2x's tools/export_model.lua: each
`nn.SpatialConvolutionMM` has weight [nOutputPlane][nInputPlane][kH][kW] and bias; the first
layer carries `model_config` (arch_name, scale_factor, channels, offset). lib/srcnn.lua's vgg_7
puts LeakyReLU(0.1) after every convolution but the last; its trailing InplaceClip01 is not in the
JSON and is left out here (the goldens are the unclamped network output).
"""
import json

import numpy as np
import torch
import torch.nn.functional as F


class Waifu2xJsonError(ValueError):
    pass


def load(path):
    with open(path, encoding="utf-8") as f:
        layers = json.load(f)
    if not isinstance(layers, list) or not layers or "model_config" not in layers[0]:
        raise Waifu2xJsonError(f"{path}: not a waifu2x JSON layer list with model_config")
    convs = []
    offset = 0
    for i, layer in enumerate(layers):
        if layer.get("class_name") != "nn.SpatialConvolutionMM":
            raise Waifu2xJsonError(f"layer {i}: {layer.get('class_name')} is not supported")
        if (layer["dW"], layer["dH"], layer["padW"], layer["padH"]) != (1, 1, 0, 0):
            raise Waifu2xJsonError(f"layer {i}: only stride 1 unpadded convolutions are supported")
        shape = (layer["nOutputPlane"], layer["nInputPlane"], layer["kH"], layer["kW"])
        weight = np.asarray(layer["weight"], dtype=np.float32)
        if weight.shape != shape:
            raise Waifu2xJsonError(f"layer {i}: weight shape {weight.shape}, want {shape}")
        bias = np.asarray(layer["bias"], dtype=np.float32).reshape(shape[0])
        convs.append((torch.from_numpy(weight), torch.from_numpy(bias)))
        offset += (layer["kH"] - 1) // 2
    config = layers[0]["model_config"]
    if config.get("offset", offset) != offset:
        raise Waifu2xJsonError(f"model_config.offset {config['offset']} != the layers' {offset}")
    return config, convs


def forward(convs, x):
    """Unpadded convolutions with LeakyReLU(0.1) between them: the output is 2*offset smaller."""
    for i, (weight, bias) in enumerate(convs):
        x = F.conv2d(x, weight, bias)
        if i < len(convs) - 1:
            x = F.leaky_relu(x, 0.1)
    return x
