#!/bin/bash
# Plain-bash verifier: one check, a CTRF report and a reward file.
mkdir -p /logs/verifier
if [ "$(cat /app/answer.txt 2>/dev/null)" = "42" ]; then
  status=passed; reward=1
else
  status=failed; reward=0
fi
echo "test_answer_is_42: $status"
cat > /logs/verifier/ctrf.json <<JSON
{"results": {"tool": {"name": "bash"}, "summary": {"tests": 1, "passed": $reward, "failed": $((1 - reward))},
 "tests": [{"name": "test_answer_is_42", "status": "$status", "duration": 1}]}}
JSON
echo $reward > /logs/verifier/reward.txt
