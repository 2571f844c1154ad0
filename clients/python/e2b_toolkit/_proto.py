"""The generated protobuf and gRPC modules, imported in one place.

They are generated into ``_gen/`` by ``generate.mjs`` (``npm run build`` at the repository
root). A missing ``_gen/`` is reported as what to run, not as a bare ModuleNotFoundError.
"""

try:
    from ._gen.e2b_toolkit.v1 import (
        code_service_pb2 as code_pb,
        code_service_pb2_grpc as code_grpc,
        command_service_pb2 as command_pb,
        command_service_pb2_grpc as command_grpc,
        execution_pb2 as execution_pb,
        file_service_pb2 as file_pb,
        file_service_pb2_grpc as file_grpc,
        job_pb2 as job_pb,
        job_service_pb2 as job_service_pb,
        job_service_pb2_grpc as job_grpc,
        network_service_pb2 as network_pb,
        network_service_pb2_grpc as network_grpc,
        sandbox_service_pb2 as sandbox_pb,
        sandbox_service_pb2_grpc as sandbox_grpc,
    )
    from ._gen.google.rpc import error_details_pb2 as error_details_pb
    from ._gen import rpc_status_pb2 as rpc_status_pb
except ImportError as err:  # pragma: no cover - depends on the build having run
    raise ImportError(
        "e2b_toolkit: the generated gRPC modules are missing or broken "
        f"({err}); run `npm run build` at the repository root "
        "(or `node clients/python/generate.mjs`)"
    ) from err

__all__ = [
    "code_pb",
    "code_grpc",
    "command_pb",
    "command_grpc",
    "execution_pb",
    "file_pb",
    "file_grpc",
    "job_pb",
    "job_service_pb",
    "job_grpc",
    "network_pb",
    "network_grpc",
    "sandbox_pb",
    "sandbox_grpc",
    "error_details_pb",
    "rpc_status_pb",
]
