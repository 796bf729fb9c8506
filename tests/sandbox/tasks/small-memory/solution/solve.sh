#!/bin/bash
echo hello > "$GREETING_TARGET"
