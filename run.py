"""Run valuespectrum: `python run.py [group=option ...] [key=value ...]`, `-m` for sweeps."""

from valuespectrum.cli import main

if __name__ == "__main__":
    main()
