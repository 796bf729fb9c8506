#!/bin/bash
set -euo pipefail
echo | REPORT_PROFILE=tundra /app/bin/report > /app/answer.txt
