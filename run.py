"""Run valuespectrum: `python run.py [group=option ...] [key=value ...]`, `-m` for sweeps."""

import sys

from valuespectrum.roster import refuse_retired

if __name__ == "__main__":
    refuse_retired(sys.argv[1:])  # a retired model stops here, before Hydra is imported
    from valuespectrum.cli import main

    main()
