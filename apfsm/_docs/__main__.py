"""``python -m apfsm._docs``: refresh the generated blocks of ``docs/``."""

from .blocks import main

raise SystemExit(main())
