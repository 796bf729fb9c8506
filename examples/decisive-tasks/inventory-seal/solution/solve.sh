#!/bin/bash
set -euo pipefail
/app/bin/inventory reseal-kite > /app/answer.txt
