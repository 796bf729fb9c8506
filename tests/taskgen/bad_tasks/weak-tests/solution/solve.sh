#!/bin/bash
set -euo pipefail
awk '{ s += $1; n += 1 } END { print "count " n; print "sum " s }' /app/numbers.txt > /app/stats.txt
