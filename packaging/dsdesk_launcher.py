"""The bundle's entry point: the ``dsdesk`` command (GUI and CLI) inside the PyInstaller bundle.

``freeze_support()`` first: the job and thumbnail workers are started by multiprocessing's
fork server, which re-runs this executable with its own arguments; PyInstaller's
multiprocessing hook recognises those and runs the worker instead of the command line.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from dsdesk.cli.main import main

    sys.exit(main())
