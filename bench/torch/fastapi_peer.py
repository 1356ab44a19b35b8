"""The stack a user would write instead of bn-service to serve a checkpoint: FastAPI + uvicorn (one worker)
+ PyTorch in eval mode. The HTTP bench drives it beside the service (bench/sections/http-predict.ts).

  python3 bench/torch/fastapi_peer.py --checkpoint-url URL --port PORT [--tuned]

URL is the service's checkpoint document (GET /v1/models/:id/checkpoints/N), loaded into torch.nn modules
(checkpoint_to_torch.py). POST /predict {"x": [...]} answers {"y": [...]}; GET /health answers once the
model is loaded. A pydantic body model and torch.inference_mode(), as FastAPI's tutorials serve a model.
By default as `uvicorn app:app` runs it: a plain `def` route (FastAPI runs it in its thread pool, as its
documentation advises for blocking work) and uvicorn's access log (one line per request on stdout).
--tuned: an `async def` route (no thread-pool hop) and no access log, as the service logs no successful
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


def build_app(model: torch.nn.Module, tuned: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health():
        return {"status": "ok"}

    def predict(point: Point):
        with torch.inference_mode():
            y = model(torch.tensor([point.x], dtype=torch.float32))[0]
        return {"y": y.tolist()}

    async def predict_async(point: Point):
        return predict(point)

    app.post("/predict")(predict_async if tuned else predict)
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tuned", action="store_true")
    args = parser.parse_args()
    with urllib.request.urlopen(args.checkpoint_url) as res:
        model = from_checkpoint(json.load(res))
    uvicorn.run(build_app(model, args.tuned), host="127.0.0.1", port=args.port, workers=1, access_log=not args.tuned)


if __name__ == "__main__":
    main()
