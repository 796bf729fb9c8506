#!/bin/bash
set -euo pipefail
echo hello > /app/greeting.txt
