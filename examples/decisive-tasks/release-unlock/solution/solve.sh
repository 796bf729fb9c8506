#!/bin/bash
set -euo pipefail
/app/bin/release --unlock amber-falcon > /app/answer.txt
