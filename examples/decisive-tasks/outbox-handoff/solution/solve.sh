#!/bin/bash
set -euo pipefail
echo ready > /app/outbox/hx7.flag
