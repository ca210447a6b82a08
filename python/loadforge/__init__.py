"""loadforge: load generation for HTTP and gRPC services."""
