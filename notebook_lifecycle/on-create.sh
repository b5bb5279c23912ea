#!/bin/bash
# On create (as root, once): clone the lab repositories into ~ec2-user/SageMaker and unpack the
# workshop's labs archive there. Parameters and local overrides: README.md.
#
# Never fatal: every failure is logged and the script exits 0. Each job runs in the background
# with its own timeout; the script waits at most CLONE_WAIT_SECONDS for them (SageMaker kills a
# lifecycle script after 5 minutes) and leaves slower ones running, logging to
# SageMaker/.workshop/logs.
# For Amazon Linux 2023 notebook instances (notebook-al2023-v1). No `set -u`: an unset override
# must read as empty.
set -o pipefail

WORKSHOP_HOME=${WORKSHOP_HOME:-/home/ec2-user}
SUDO_AS=${SUDO_AS-ec2-user}
LAB_REPOSITORIES=${LAB_REPOSITORIES-https://github.com/CloudaYolla/ArchitectingMLonAWS https://github.com/awslabs/amazon-sagemaker-examples}
LABS_S3_URI=${LABS_S3_URI:-}
CLONE_WAIT_SECONDS=${CLONE_WAIT_SECONDS:-120}
JOB_TIMEOUT_SECONDS=${JOB_TIMEOUT_SECONDS:-1800}
# Lifecycle scripts get PATH=/sbin:bin:/usr/sbin:/usr/bin; the AWS CLI may live elsewhere.
PATH=$PATH:/usr/local/bin:$WORKSHOP_HOME/anaconda3/bin

# No region is configured for the CLI on a notebook instance: the instance's ARN has it.
METADATA=${RESOURCE_METADATA:-/opt/ml/metadata/resource-metadata.json}
if [ -z "$AWS_DEFAULT_REGION" ] && [ -r "$METADATA" ]; then
    AWS_DEFAULT_REGION=$(sed -n 's/.*"ResourceArn" *: *"arn:[^:]*:sagemaker:\([^:]*\):.*/\1/p' "$METADATA")
    export AWS_DEFAULT_REGION
fi

NOTEBOOK_DIR=$WORKSHOP_HOME/SageMaker
LOG_DIR=$NOTEBOOK_DIR/.workshop/logs
JOB_PIDS=()
JOB_NAMES=()

log() { echo "on-create: $*"; }

# Runs a command as the notebook user (so the attendee owns what it creates).
as_user() {
    if [ -n "$SUDO_AS" ]; then
        sudo -u "$SUDO_AS" -H -- "$@"
    else
        "$@"
    fi
}

# shellcheck disable=SC2329 # run through start_job
clone_repository() {
    local url=$1 name dest partial
    name=$(basename "${url%/}" .git)
    dest=$NOTEBOOK_DIR/$name
    if [ -e "$dest" ]; then
        echo "$name: already present, not cloned again"
        return 0
    fi
    # Clone beside the target and rename when complete: an interrupted clone never looks done.
    partial=$NOTEBOOK_DIR/.$name.partial
    rm -rf "$partial"
    if as_user timeout "$JOB_TIMEOUT_SECONDS" git clone --depth 1 --quiet "$url" "$partial"; then
        mv "$partial" "$dest" && echo "$name: cloned from $url"
    else
        local status=$?
        rm -rf "$partial"
        echo "$name: clone of $url failed (exit $status)"
        return "$status"
    fi
}

# shellcheck disable=SC2329 # run through start_job
copy_labs() {
    local dest=$NOTEBOOK_DIR/labs archive
    if [ -e "$dest" ]; then
        echo "labs: already present, kept (the attendee's edits survive)"
        return 0
    fi
    archive=$(mktemp --suffix=.zip) || return 1
    if timeout "$JOB_TIMEOUT_SECONDS" aws s3 cp --only-show-errors "$LABS_S3_URI" "$archive" &&
        rm -rf "$dest.partial" && unzip -q "$archive" -d "$dest.partial" &&
        mv "$dest.partial" "$dest"; then
        rm -f "$archive"
        [ -z "$SUDO_AS" ] || chown -R "$SUDO_AS:$SUDO_AS" "$dest"
        echo "labs: unpacked $LABS_S3_URI"
    else
        local status=$?
        rm -rf "$archive" "$dest.partial"
        echo "labs: copy of $LABS_S3_URI failed (exit $status)"
        return "$status"
    fi
}

# start_job NAME FUNCTION ARGS...: runs in the background, immune to the hang-up that ends the
# lifecycle session, output to its own log, exit status to NAME.status.
start_job() {
    local name=$1
    shift
    (
        trap '' HUP
        "$@" >"$LOG_DIR/$name.log" 2>&1
        echo $? >"$LOG_DIR/$name.status"
    ) </dev/null >/dev/null 2>&1 &
    JOB_PIDS+=("$!")
    JOB_NAMES+=("$name")
}

running_jobs() {
    local pid count=0
    for pid in "${JOB_PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && count=$((count + 1))
    done
    echo "$count"
}

report_jobs() {
    local i name
    for i in "${!JOB_NAMES[@]}"; do
        name=${JOB_NAMES[$i]}
        if [ -f "$LOG_DIR/$name.status" ]; then
            log "$(cat "$LOG_DIR/$name.log")"
        else
            log "$name: still running in the background (log: $LOG_DIR/$name.log)"
        fi
    done
}

main() {
    if ! as_user mkdir -p "$NOTEBOOK_DIR" "$LOG_DIR"; then
        log "cannot create $LOG_DIR; nothing done"
        return 0
    fi
    rm -f "$LOG_DIR"/*.status
    local url repositories
    read -ra repositories <<<"$LAB_REPOSITORIES" # split on spaces, no globbing
    for url in "${repositories[@]}"; do
        start_job "clone-$(basename "${url%/}" .git)" clone_repository "$url"
    done
    [ -z "$LABS_S3_URI" ] || start_job labs copy_labs

    local deadline=$((SECONDS + CLONE_WAIT_SECONDS))
    while [ "$(running_jobs)" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    report_jobs
}

main
exit 0
