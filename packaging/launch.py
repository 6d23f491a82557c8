"""The bundle's entry point: the same ``studio`` command as the installed one."""

import sys

from studio.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
