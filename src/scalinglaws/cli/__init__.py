"""The ``scalinglaws`` command line: a thin layer over the public API, no logic of its own.

Each command group lives in its own module and adds its commands to :data:`cli` through a
``register(group)`` function.  Bad input prints one sentence to stderr and exits with 2.

The library's messages name its Python arguments (``time_min must be ...``); a library error
leaving a command is restated in that command's flags (``--time must be ...``) by
:func:`scalinglaws.cli.options.restate`, which every command's callback is wrapped in.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from scalinglaws.cli.options import restate
from scalinglaws.errors import ScalingLawsError

# click >= 8.2 raises this for a group called without a command (older click exits with 0).
_NO_ARGS_IS_HELP: type[Exception] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="scalinglaws")
def cli() -> None:
    """Scaling laws of language models: published laws, fits to your runs, and sweeps."""


def _register_all() -> None:
    from scalinglaws.cli import calc, compute, curve, datasets, fitting, kaplan, report, sweep

    for module in (calc, kaplan, compute, fitting, curve, sweep, report, datasets):
        module.register(cli)
    _restate_errors_in_flags(cli)


def _restate_errors_in_flags(group: click.Group) -> None:
    """Wrap the callback of every command under ``group`` so that a library error leaving it
    names the command's flags, not the Python arguments behind them."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _restate_errors_in_flags(command)
        elif command.callback is not None:
            command.callback = _restating(command, command.callback)


def _restating(command: click.Command, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except ScalingLawsError as exc:
            restate(exc, command)
            raise

    return run


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    try:
        # without standalone mode click returns the code of a click.exceptions.Exit raised by
        # a command (e.g. 'sweep run' with failed runs) instead of raising it
        code = cli.main(args=argv, prog_name="scalinglaws", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code or 0)
    except _NO_ARGS_IS_HELP as exc:  # a group without its command: its help, no 'error:'
        click.echo(exc.format_message(), err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted.", err=True)
        return 130
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "scalinglaws"
        msg = exc.format_message().rstrip(".")
        click.echo(f"error: {msg}; see '{cmd} --help'.", err=True)
        return 2
    except click.ClickException as exc:  # e.g. a file that cannot be opened
        click.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except ScalingLawsError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except OSError as exc:  # the machine, not the input: a full disk, a vanished file, ...
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"error: cannot read or write{where} ({exc.strerror or exc}).", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted.", err=True)
        return 130
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
