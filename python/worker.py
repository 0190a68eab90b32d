"""Entry point the Node bridge runs (``python python/worker.py``); puts this folder on sys.path first."""

from empo_worker.server import main

if __name__ == "__main__":
    raise SystemExit(main())
