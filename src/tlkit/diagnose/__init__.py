"""`tlkit diagnose PID ...`: say of each process of a tree whether it progresses or is stuck, and where.

procfs.py reads /proc, stacks.py runs py-spy, evidence.py samples a tree over a few seconds (and reads the kit
wheel's process state file), verdict.py turns that into one verdict per process, command.py prints it."""
