"""PyTorch reference for the bench suite (bench/lib/torch.ts runs it; nothing is installed by it).

Reads one JSON request on stdin, writes one JSON answer on stdout:
  {"task": "predict", "checkpoint": PATH, "x": [...], "calls": N}
      eval-mode latency of the same weights as our checkpoint document, and its prediction for x
  {"task": "train", "inputDim": D, "hidden": [...], "classes": K, "rows": N, "epochs": E, "batchSize": B, "lr": LR}
      samples/s of the same MLP (Linear without bias -> BatchNorm1d -> ReLU per hidden layer), Adam,
      epoch 1 excluded as warm-up: over the other epochs, and of the best one
Any request may add "threads": N (default 1: one thread, like each of our prediction engines).
"""
import json
import sys
import time

import torch
from torch import nn

from checkpoint_to_torch import from_checkpoint


def quantile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def predict(req):
    with open(req["checkpoint"]) as f:
        model = from_checkpoint(json.load(f))
    x = torch.tensor([req["x"]], dtype=torch.float32)
    calls = req.get("calls", 5000)
    times = []
    with torch.inference_mode():
        for _ in range(min(2000, calls)):
            model(x)
        for _ in range(calls):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e6)
        y = model(x)[0].tolist()
    times.sort()
    return {"medianUs": quantile(times, 0.5), "p99Us": quantile(times, 0.99), "y": y}


def train(req):
    torch.manual_seed(1)
    d, k, n = req["inputDim"], req["classes"], req["rows"]
    layers, width = [], d
    for units in req["hidden"]:
        layers += [nn.Linear(width, units, bias=False), nn.BatchNorm1d(units, eps=1e-3, momentum=0.01), nn.ReLU()]
        width = units
    layers.append(nn.Linear(width, k))
    model = nn.Sequential(*layers).train()
    opt = torch.optim.Adam(model.parameters(), lr=req["lr"])
    loss_fn = nn.CrossEntropyLoss()
    labels = torch.arange(n) % k
    features = torch.rand(n, d) + 0.5 * (torch.arange(d)[None, :] % k == labels[:, None]).float()
    batch = req["batchSize"]
    seconds = 0.0
    best = 0.0
    for epoch in range(req["epochs"]):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(features[idx]), labels[idx])
            loss.backward()
            opt.step()
        loss.item()
        if epoch > 0:
            elapsed = time.perf_counter() - t0
            seconds += elapsed
            best = max(best, n / elapsed)
    return {"samplesPerSecond": n * (req["epochs"] - 1) / seconds, "bestEpochSamplesPerSecond": best, "finalLoss": loss.item()}


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(req.get("threads", 1))
    out = predict(req) if req["task"] == "predict" else train(req)
    out.update({"torch": torch.__version__, "threads": torch.get_num_threads()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
