#!/bin/bash
# The answer lives on a server; offline (and everywhere: .invalid never resolves) it cannot be fetched.
set -e
curl -fsS https://answers.example.invalid/answer.txt -o /app/answer.txt
