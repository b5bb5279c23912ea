#!/bin/sh
# Start `train` or `serve` as the unprivileged `model` user (uid 1000).
#
# SageMaker starts containers as root and mounts /opt/ml/* owned by root (training's model and
# output folders must be writable; hosting's model folder is read-only). An image whose USER is
# non-root cannot write those mounts, so the image starts as root, hands the writable mounts to
# `model`, and drops every privilege before running any of our code.
set -eu

if [ "$(id -u)" = "0" ]; then
    for dir in /opt/ml/model /opt/ml/output; do
        # Read-only on endpoints: chown fails there, and serving does not need to write.
        if [ -d "$dir" ]; then chown -R model:model "$dir" 2>/dev/null || true; fi
    done
    exec setpriv --reuid=1000 --regid=1000 --init-groups --no-new-privs python -m byom "$@"
fi
exec python -m byom "$@"
