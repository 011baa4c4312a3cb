"""``python -m checkpoint_manager``: the ``checkpoint-manager`` command line, run by the same Rust
code as the binary, so flags, output and exit codes are the binary's."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Optional, Sequence

from . import _native

__all__ = ["main", "console_main"]

PROGRAM = "checkpoint-manager"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line with ``argv`` (default: ``sys.argv[1:]``) and returns its exit
    code. Output goes straight to the process's stdout and stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Whatever Python buffered must come out before the native code writes to the same files.
    sys.stdout.flush()
    sys.stderr.flush()
    return _native.run_cli([PROGRAM, *args])


def console_main() -> int:
    """Entry point of ``python -m checkpoint_manager`` and of the installed script."""
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops the command as it stops the binary, instead of waiting for it to return
        # to the interpreter.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    return main()


if __name__ == "__main__":
    sys.exit(console_main())
