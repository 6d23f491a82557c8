import multiprocessing

if __name__ == "__main__":
    # A no-op unless frozen; the bundle's entry point (packaging/launch.py) does the same.
    multiprocessing.freeze_support()

    from studio.cli.main import run

    run()
