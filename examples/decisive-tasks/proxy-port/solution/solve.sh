#!/bin/bash
set -euo pipefail
echo 873 > /app/answer.txt
