import sys

if __name__ == "__main__":
    if getattr(sys, "frozen", False):  # a bundle's helper processes start here too
        import multiprocessing  # (not otherwise: off the app's start path)

        multiprocessing.freeze_support()

    from studio.cli.main import run

    run()
