#!/bin/bash
# An unseeded draw: the estimate changes from run to run and is never exactly 42.
set -e
echo $(( 43 + 10#$(date +%N) )) > /app/answer.txt
