"""The stack a user would write instead of bn-service to serve a checkpoint: FastAPI + uvicorn (one worker)
+ PyTorch in eval mode. The HTTP bench drives it beside the service (bench/sections/http-predict.ts).

  python3 bench/torch/fastapi_peer.py --checkpoint-url URL --port PORT

URL is the service's checkpoint document (GET /v1/models/:id/checkpoints/N), loaded into torch.nn modules
(checkpoint_to_torch.py). POST /predict {"x": [...]} answers {"y": [...]}; GET /health answers once the
model is loaded. Written the way FastAPI's tutorials serve a model: a pydantic body model, an `async def`
route (faster in our runs than a plain `def`, which FastAPI runs in its thread pool: the peer gets the
faster of the two), torch.inference_mode(); access log off, as the service logs no successful
prediction either. Nothing is installed: Debian's python3-fastapi python3-uvicorn python3-torch.
"""
import argparse
import json
import urllib.request
from typing import List

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from checkpoint_to_torch import from_checkpoint


class Point(BaseModel):
    x: List[float]


def build_app(model: torch.nn.Module) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.post("/predict")
    async def predict(point: Point):
        with torch.inference_mode():
            y = model(torch.tensor([point.x], dtype=torch.float32))[0]
        return {"y": y.tolist()}

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with urllib.request.urlopen(args.checkpoint_url) as res:
        model = from_checkpoint(json.load(res))
    uvicorn.run(build_app(model), host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
