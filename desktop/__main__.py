import sys

from .app import main

if __name__ == "__main__":  # guarded: a spawn-started child re-imports the main module
    sys.exit(main())
