#!/bin/bash
set -euo pipefail
echo marigold | /app/bin/vault > /app/answer.txt
