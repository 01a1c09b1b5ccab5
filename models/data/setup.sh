#!/bin/bash
# Kept for old instructions: the environment is made by models/setup.sh (one script for training, data, eval).
exec bash "$(cd "$(dirname "$0")/.." && pwd)/setup.sh" "$@"
