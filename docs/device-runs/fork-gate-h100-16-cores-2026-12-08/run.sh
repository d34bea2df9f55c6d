#!/bin/bash
# issue 25: patch 0020 on a 16-core machine: gate contention (fork_gate.py) and forked children under 16 querying threads
set -u
mkdir -p /tmp/A /tmp/B && tar xJf .device/siteA.tar.xz -C /tmp/A && tar xJf .device/siteB.tar.xz -C /tmp/B
printf '#!/bin/sh\nPYTHONPATH=/tmp/A exec python3 "$@"\n' > /tmp/pyA
printf '#!/bin/sh\nPYTHONPATH=/tmp/B:/tmp/A exec python3 "$@"\n' > /tmp/pyB
chmod +x /tmp/pyA /tmp/pyB
{ date -u; nproc; ldd --version | head -1; cat /etc/os-release | grep PRETTY; python3 -V; which gdb;
  /tmp/pyA -c "import tilelang,os;print(tilelang.__version__, os.path.dirname(tilelang.__file__))";
  /tmp/pyB -c "import tilelang,os;print(tilelang.__version__, os.path.dirname(tilelang.__file__))"; } 2>&1 | tee $OUT/machine.txt
s=$SECONDS
timeout 200 python3 benchmarks/fork_gate.py --with /tmp/pyA --without /tmp/pyB --repeat 3 --queries 2000 --forks 100 --threads 1,4,8,16 --rounds 60 2>&1 | tee $OUT/fork_gate.txt
echo "fork_gate exit ${PIPESTATUS[0]} after $((SECONDS-s)) s" | tee -a $OUT/fork_gate.txt
for w in A B; do
  s=$SECONDS; mkdir -p $OUT/stacks-$w
  if [ $w = A ]; then n=600; lim=120; else n=300; lim=80; fi
  CHILD_BOUND_S=15 STUCK_STACKS_DIR=$OUT/stacks-$w timeout $lim /tmp/py$w tests/fixtures/hang/fork_z3_queries.py $n 16 > $OUT/fork-z3-$w.txt 2>&1
  echo "exit $? after $((SECONDS-s)) s" >> $OUT/fork-z3-$w.txt
  echo "== $w"; tail -5 $OUT/fork-z3-$w.txt
done
