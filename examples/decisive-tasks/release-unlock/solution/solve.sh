#!/bin/bash
set -euo pipefail
echo amber-falcon | xargs /app/bin/release --unlock > /app/answer.txt
