from empo_worker.server import main

if __name__ == "__main__":
    raise SystemExit(main())
