"""dfl app: edit your own photos in the browser, a slider per attribute (needs dfl_keras[app])."""

import argparse
import importlib.util
import signal
import socket

from dfl_keras.cli import common, options
from dfl_keras.presets import DEFAULT_JUDGE

SUMMARY = "edit your photos in the browser: a local page with a slider per attribute"
INTERRUPTED = ": the page is closed and its temporary files are removed"


def add_arguments(parser):
    options.add_model(parser)
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on "
                        "(default: %(default)s, this computer only; 0.0.0.0 opens it to your "
                        "network)")
    parser.add_argument("--port", type=port, default=7860, help="default: %(default)s")
    parser.add_argument("--judge", default=DEFAULT_JUDGE,
                        help="the judge of the auto button (default: %(default)s)")


def run(args):
    if importlib.util.find_spec("gradio") is None:  # before the model loads: the fix comes first
        raise ImportError('dfl app needs Gradio, an optional extra: pip install "dfl_keras[app]"')
    check_address(args.host, args.port)
    from dfl_keras import app

    model, label = common.load_model(args.model)
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped server still removes its files
    print(f"dfl app: editing with {label}; open http://{args.host}:{args.port}/ "
          "(Ctrl-C stops it)", flush=True)
    app.serve(model, label, host=args.host, port=args.port, judge=args.judge)
    return 0


def check_address(host, port):
    """Refuse, before the model loads, an address the page could not listen on (a port in use,
    a host that is not this computer's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(f"cannot listen on {host}:{port} ({error.strerror or error}): choose "
                          "another --port, or a --host of this computer") from None


def port(text):
    """A TCP port number, 1 to 65535."""
    value = options.count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
    return value


def _interrupt(signum, frame):
    raise KeyboardInterrupt
