#!/bin/bash
# Partial credit by closeness to 42: the reward is 42/answer, so a different answer gives a different reward.
mkdir -p /logs/verifier
answer=$(cat /app/answer.txt 2>/dev/null || echo 0)
if [ "$answer" = "42" ]; then status=passed; else status=failed; fi
echo "test_answer_is_42: $status (answer $answer)"
cat > /logs/verifier/ctrf.json <<JSON
{"results": {"tool": {"name": "bash"}, "summary": {"tests": 1},
 "tests": [{"name": "test_answer_is_42", "status": "$status", "duration": 1}]}}
JSON
awk -v a="$answer" 'BEGIN { if (a > 0) printf "%.9f\n", (a < 42 ? a / 42 : 42 / a); else print 0 }' > /logs/verifier/reward.txt
