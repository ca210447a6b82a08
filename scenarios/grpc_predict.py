"""gRPC against the demo target's `loadforge.demo.v1.Inference` service.

    loadforge demo-server --port 8000 --grpc-port 50051 &
    loadforge run scenarios/grpc_predict.py -u 20 -r 20 -t 15s -H http://127.0.0.1:50051

`Predict` is a declarative unary call: the request is serialized once here and the Rust
engine fires it with no Python per call. `StreamPredictions` runs in an `async def` task:
the engine reads the stream and hands the replies over in batches. The call is recorded
under `GRPC <name>` (start to trailers, with its message count) and the time to its first
message under `GRPC-FIRST <name>` (see docs/grpc.md).
"""

from loadforge import GrpcUser, constant, task, unary
from loadforge._proto.inference_pb2 import PredictReply, PredictRequest, StreamRequest

PREDICT = "/loadforge.demo.v1.Inference/Predict"
STREAM = "/loadforge.demo.v1.Inference/StreamPredictions"
FEATURES = [0.5] * 784
STREAMED = 10


class Predictor(GrpcUser):
    """Unary predictions, entirely in Rust."""

    weight = 3
    wait_time = constant(0.01)
    tasks = [unary(PREDICT, PredictRequest(data=FEATURES), PredictReply)]


class Streamer(GrpcUser):
    """Server-streaming predictions, read by a Python task."""

    weight = 1
    wait_time = constant(0.05)

    @task
    async def stream_predictions(self) -> None:
        call = self.client.server_stream(
            STREAM, StreamRequest(count=STREAMED, data=FEATURES), PredictReply
        )
        async for reply in call:
            assert 0 <= reply.prediction <= 9, reply
        # A call cut off by the end of the run is counted by the engine, not raised here.
        if call.ok:
            assert call.messages == STREAMED, call


thresholds = ["fail_ratio < 1%", ("GRPC " + PREDICT, "p99 < 1s")]
