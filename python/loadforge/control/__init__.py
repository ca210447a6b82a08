"""The one path of every run: a controller hands the plan to workers over gRPC and merges
what they send back. A local run is a controller whose workers are child processes."""
