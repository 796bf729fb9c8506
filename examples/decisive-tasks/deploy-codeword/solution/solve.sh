#!/bin/bash
set -euo pipefail
echo quokka > /app/answer.txt
