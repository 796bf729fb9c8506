#!/bin/bash
set -euo pipefail
echo reseal-kite | xargs /app/bin/inventory > /app/answer.txt
