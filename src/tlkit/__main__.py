from tlkit.cli import main

raise SystemExit(main())
