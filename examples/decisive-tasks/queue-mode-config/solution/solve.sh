#!/bin/bash
set -euo pipefail
echo mode=lantern > /app/service.conf
