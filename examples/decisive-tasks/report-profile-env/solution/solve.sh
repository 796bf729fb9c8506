#!/bin/bash
set -euo pipefail
REPORT_PROFILE=tundra /app/bin/report > /app/answer.txt
