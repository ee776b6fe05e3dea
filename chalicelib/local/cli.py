"""The `kms-local` command line: options, each with an environment variable equivalent."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chalicelib.local.server import LocalOptions, run


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", envvar="KMS_LOCAL_HOST", default="127.0.0.1", show_default=True,
              help="Address to listen on [env KMS_LOCAL_HOST].")
@click.option("--port", envvar="KMS_LOCAL_PORT", default=8000, show_default=True,
              type=click.IntRange(1, 65535), help="Port to listen on [env KMS_LOCAL_PORT].")
@click.option("--data-dir", envvar="KMS_LOCAL_DATA_DIR", default="./.kms-data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where keys, tables and the SoftHSM2 token live [env KMS_LOCAL_DATA_DIR].")
@click.option("--workers", envvar="KMS_LOCAL_WORKERS", default=2, show_default=True,
              type=click.IntRange(1, 64), help="HTTP worker processes [env KMS_LOCAL_WORKERS].")
def command(host: str, port: int, data_dir: Path, workers: int) -> None:
    """Serve the KMS (AWS JSON 1.1) on HOST:PORT with its store and HSM in DATA_DIR."""
    sys.exit(run(LocalOptions(host=host, port=port, data_dir=data_dir, workers=workers)))


def main() -> None:
    """Console-script entry point."""
    command(prog_name="kms-local")
