import sys

from scalinglaws.cli import main

sys.exit(main())
