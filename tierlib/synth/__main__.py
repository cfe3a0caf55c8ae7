"""``python -m tierlib.synth ...``: the command line's ``tierlib synth`` (parsed by the CLI)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """The same command as ``tierlib synth``."""
    import sys

    from tierlib.cli import main as cli_main

    return cli_main(["synth", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
