"""``python -m minitf.serving``: tensorflow_model_server's REST half, with its flags.

    python -m minitf.serving --rest_api_port=8501 --model_name=my_model \\
        --model_base_path=/path/to/my_model
    python -m minitf.serving --model_config_file=models.config --enable_batching \\
        --batching_parameters_file=batching.config

Binds 127.0.0.1 unless ``--rest_api_host`` says otherwise (TF Serving binds every interface).
``--port`` (gRPC) is accepted and ignored: minitf serves REST only.

``--rest_api_workers=N`` (minitf's flag) serves from N processes on one port, under uvicorn's
process supervisor: one Python process runs one core at most (its event loop holds the GIL),
where TF Serving's C++ threads use them all. Each process loads the models, polls the model
directories and batches on its own, so for up to one poll interval after a new version lands
two requests may be answered by different versions.
"""

from __future__ import annotations

import argparse
import sys

from .config import (
    BatchingParameters,
    ModelConfig,
    parse_batching_parameters,
    parse_model_config,
    read,
)


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minitf.serving",
                                description="A TensorFlow-Serving-compatible REST model server.")
    p.add_argument("--rest_api_port", type=int, default=8501)
    p.add_argument("--rest_api_host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8500, help="gRPC port: accepted, not served")
    p.add_argument("--model_name", default="default")
    p.add_argument("--model_base_path", default=None)
    p.add_argument("--model_config_file", default=None)
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0)
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--batching_parameters_file", default=None)
    p.add_argument("--rest_api_num_threads", type=int, default=4)
    p.add_argument("--rest_api_workers", type=int, default=1,
                   help="minitf: server processes sharing the port (one core each at most)")
    p.add_argument("--rest_api_timeout_in_ms", type=int, default=30000)
    p.add_argument("--max_body_bytes", type=int, default=64 * 1024 * 1024,
                   help="minitf: bodies over this get 413")
    return p


def _configs(args: argparse.Namespace) -> tuple[list[ModelConfig], BatchingParameters | None]:
    """The models and batching parameters the flags ask for; ``ValueError`` if they are bad."""
    if args.rest_api_workers < 1:
        raise ValueError(f"--rest_api_workers must be at least 1, got {args.rest_api_workers}")
    if args.model_config_file:
        configs = parse_model_config(read(args.model_config_file), args.model_config_file)
    elif args.model_base_path:
        configs = [ModelConfig(args.model_name, args.model_base_path)]
    else:
        raise ValueError("give --model_base_path (with --model_name) or --model_config_file")
    batching = None
    if args.enable_batching:
        batching = BatchingParameters()
        if args.batching_parameters_file:
            batching = parse_batching_parameters(read(args.batching_parameters_file),
                                                 args.batching_parameters_file)
    return configs, batching


def build(args: argparse.Namespace):  # noqa: ANN201 - Starlette, imported lazily
    """The application for parsed flags (its models loaded); ``ValueError`` for a bad
    configuration."""
    from .app import Server, create_app
    from .manager import Manager

    configs, batching = _configs(args)
    manager = Manager(configs, args.file_system_poll_wait_seconds)
    server = Server(manager, args.rest_api_num_threads, batching, args.max_body_bytes,
                    args.rest_api_timeout_in_ms / 1000)
    return create_app(server)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    try:
        if args.rest_api_workers == 1:
            app = build(args)
        else:
            _configs(args)  # checked here, once; each worker builds its own application
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import uvicorn

    from .processes import WorkerApp, freeze_heap, serve_one, serve_workers
    from .wire import CoalescingHttpToolsProtocol

    where = f"minitf.serving: REST API on http://{args.rest_api_host}:{args.rest_api_port}"
    options = dict(host=args.rest_api_host, port=args.rest_api_port, access_log=False,
                   log_level="warning", timeout_graceful_shutdown=5,
                   http=CoalescingHttpToolsProtocol)
    if args.rest_api_workers == 1:
        freeze_heap()
        return serve_one(uvicorn.Config(app, **options), lambda: print(where, flush=True))
    config = uvicorn.Config(WorkerApp(argv), factory=True, workers=args.rest_api_workers,
                            **options)
    try:
        return serve_workers(config, lambda: print(
            f"{where} ({args.rest_api_workers} processes)", flush=True))
    except OSError as e:
        print(f"error: cannot serve on {args.rest_api_host}:{args.rest_api_port}: {e}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
