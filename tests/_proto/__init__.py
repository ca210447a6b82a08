"""Generated protobuf modules for tests and benches (scripts/gen_proto.py). Do not edit."""
