#!/bin/bash
# Right answer, far too slowly for the 3 s the task allows.
sleep 60
echo 42 > /app/answer.txt
