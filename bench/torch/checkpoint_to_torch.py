"""A checkpoint document of bn-service (GET /v1/models/:id/checkpoints/N) as torch.nn modules in eval mode.

The document lists every transform in forward order: dense (kernel [inputs][units], bias optional),
batchNorm (gamma, beta, movingMean, movingVariance, epsilon, momentum), activation. Conventions differ:
PyTorch's Linear weight is [units][inputs]; its BatchNorm1d momentum weighs the new batch (1 - rho, unused
in eval mode), its eps is ours, and running_var is the moving variance the document stores.
"""
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "linear": nn.Identity}


def from_checkpoint(doc):
    layers = []
    for layer in doc["layers"]:
        if layer["type"] == "dense":
            kernel = torch.tensor(layer["kernel"], dtype=torch.float32)  # [inputs][units]
            linear = nn.Linear(kernel.shape[0], kernel.shape[1], bias="bias" in layer)
            linear.weight.data = kernel.t().contiguous()
            if "bias" in layer:
                linear.bias.data = torch.tensor(layer["bias"], dtype=torch.float32)
            layers.append(linear)
        elif layer["type"] == "batchNorm":
            # PyTorch's momentum weighs the new batch: ours (Keras') weighs the old average. Unused in eval.
            bn = nn.BatchNorm1d(len(layer["gamma"]), eps=layer["epsilon"], momentum=1 - layer["momentum"])
            bn.weight.data = torch.tensor(layer["gamma"], dtype=torch.float32)
            bn.bias.data = torch.tensor(layer["beta"], dtype=torch.float32)
            bn.running_mean = torch.tensor(layer["movingMean"], dtype=torch.float32)
            bn.running_var = torch.tensor(layer["movingVariance"], dtype=torch.float32)
            layers.append(bn)
        elif layer["fn"] == "softmax":
            layers.append(nn.Softmax(dim=-1))
        else:
            layers.append(ACTIVATIONS[layer["fn"]]())
    return nn.Sequential(*layers).eval()
