"""The bundle's entry point: the same ``studio`` command as the installed one.

``freeze_support()`` comes first, before the app is imported: the import pool's
workers (``studio.media.pool``, forkserver) are started by re-running this program
with multiprocessing's own arguments (the fork server, the resource tracker, a spawned
worker); PyInstaller's multiprocessing runtime hook makes ``freeze_support`` run that
code and exit, instead of starting the app again (PyInstaller 6.22.3,
PyInstaller/hooks/rthooks/pyi_rth_multiprocessing.py; checked 2026-12-01)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a multiprocessing helper process ends here

    from studio.cli.main import main

    sys.exit(main())
