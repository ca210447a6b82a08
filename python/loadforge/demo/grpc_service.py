"""The demo target's gRPC service `loadforge.demo.v1.Inference`."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence

import grpc

from loadforge._proto import inference_pb2, inference_pb2_grpc
from loadforge.demo.counters import Counters
from loadforge.demo.model import INPUT_LENGTH, predict

PREDICT = "/loadforge.demo.v1.Inference/Predict"
STREAM_PREDICTIONS = "/loadforge.demo.v1.Inference/StreamPredictions"
MAX_STREAM_COUNT = 10_000


class InferenceService(inference_pb2_grpc.InferenceServicer):
    """Predict and StreamPredictions over the same toy model as `POST /predict`."""

    def __init__(self, counters: Counters) -> None:
        self._counters = counters

    async def Predict(
        self, request: inference_pb2.PredictRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.PredictReply:
        problem = _check_features(request.data)
        if problem:
            self._counters.count_grpc(PREDICT, "INVALID_ARGUMENT")
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        prediction, confidence = predict(request.data)
        self._counters.count_grpc(PREDICT, "OK")
        return inference_pb2.PredictReply(prediction=prediction, confidence=confidence)

    async def StreamPredictions(
        self, request: inference_pb2.StreamRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inference_pb2.PredictReply]:
        problem = _check_features(request.data)
        if not problem and not 0 <= request.count <= MAX_STREAM_COUNT:
            problem = f"count must be 0..{MAX_STREAM_COUNT}, got {request.count}"
        if problem:
            self._counters.count_grpc(STREAM_PREDICTIONS, "INVALID_ARGUMENT")
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        prediction, confidence = predict(request.data)
        reply = inference_pb2.PredictReply(prediction=prediction, confidence=confidence)
        sent = 0
        try:
            for _ in range(request.count):
                yield reply
                sent += 1
        finally:
            # A client that cancels mid-stream is counted too, so totals still add up.
            self._counters.count_streamed(sent)
            code = "OK" if sent == request.count else "CANCELLED"
            self._counters.count_grpc(STREAM_PREDICTIONS, code)


def _check_features(data: Sequence[float]) -> str:
    if len(data) != INPUT_LENGTH:
        return f"data must have {INPUT_LENGTH} floats, got {len(data)}"
    if not all(math.isfinite(x) for x in data):
        return "data must hold finite floats"
    return ""
