#!/bin/bash
# Studio JupyterLab (environment=studio), at every start of the attendee's JupyterLab space, as
# the space's user (sagemaker-user, in its home): unpacks the workshop's labs archive into
# ~/SageMaker/labs (the same place as on a notebook instance, so the labs and their helper read
# the same paths), writes ~/SageMaker/.workshop/env.json from the workshop's SSM parameter, and
# pins the labs' SDK in the background. Parameters and local overrides: README.md.
#
# It is the domain's built-in JupyterLab lifecycle configuration: Studio runs it whenever a
# space starts, before any default one, and the attendee cannot deselect it
# (https://docs.aws.amazon.com/sagemaker/latest/dg/studio-lifecycle-configurations.html).
# Studio gives a lifecycle script 5 minutes, and a failing script fails the app's start
# (https://docs.aws.amazon.com/sagemaker/latest/dg/jl-lcc.html and jl-lcc-debug.html): never
# fatal, slow work in the background. No `set -u`: an unset override must read as empty.
set -o pipefail

WORKSHOP_HOME=${WORKSHOP_HOME:-${HOME:-/home/sagemaker-user}}
LABS_S3_URI=${LABS_S3_URI:-}
JOB_TIMEOUT_SECONDS=${JOB_TIMEOUT_SECONDS:-1800}
PATH=$PATH:/usr/local/bin:/opt/conda/bin

# The app's ARN in Studio's metadata names the region, as on a notebook instance.
METADATA=${RESOURCE_METADATA:-/opt/ml/metadata/resource-metadata.json}
if [ -z "$AWS_DEFAULT_REGION" ] && [ -r "$METADATA" ]; then
    AWS_DEFAULT_REGION=$(sed -n 's/.*"ResourceArn" *: *"arn:[^:]*:sagemaker:\([^:]*\):.*/\1/p' "$METADATA")
    export AWS_DEFAULT_REGION
fi

NOTEBOOK_DIR=$WORKSHOP_HOME/SageMaker
STATE_DIR=$NOTEBOOK_DIR/.workshop
LOG_DIR=$STATE_DIR/logs

log() { echo "studio-jupyterlab: $*"; }

# Kept when present: the space's volume keeps the attendee's edits across restarts.
copy_labs() {
    local dest=$NOTEBOOK_DIR/labs archive
    if [ -e "$dest" ]; then
        log "labs: already present, kept (the attendee's edits survive)"
        return 0
    fi
    archive=$(mktemp --suffix=.zip) || return 1
    if timeout 240 aws s3 cp --only-show-errors "$LABS_S3_URI" "$archive" &&
        rm -rf "$dest.partial" && unzip -q "$archive" -d "$dest.partial" &&
        mv "$dest.partial" "$dest"; then
        rm -f "$archive"
        log "labs: unpacked $LABS_S3_URI"
    else
        local status=$?
        rm -rf "$archive" "$dest.partial"
        log "labs: copy of $LABS_S3_URI failed (exit $status)"
        return "$status"
    fi
}

# The SSM parameter's JSON object, as on a notebook instance (the helper finds the attendee
# from the space owner's user profile: labs/workshop.py).
write_environment_file() {
    local draft
    draft=$(mktemp "$STATE_DIR/.env.json.XXXXXX") || return 1
    if timeout 60 aws ssm get-parameter --name "$WORKSHOP_SSM_PARAMETER" \
        --query Parameter.Value --output text >"$draft" &&
        python3 -c 'import json, sys; assert isinstance(json.load(open(sys.argv[1])), dict)' \
            "$draft"; then
        chmod 644 "$draft" && mv "$draft" "$STATE_DIR/env.json"
        log "wrote $STATE_DIR/env.json from the SSM parameter $WORKSHOP_SSM_PARAMETER"
    else
        rm -f "$draft"
        log "cannot read a JSON object from $WORKSHOP_SSM_PARAMETER; env.json not written"
        return 1
    fi
}

# The labs teach the sagemaker SDK v3 at the kernel lock's pin (labs/README.md); the image's
# own version may differ. In the background: the install outlasts the 5-minute limit.
# The kernel is the image's conda Python, first on the user's PATH (STUDIO_PIP overrides).
LABS_SDK=${LABS_SDK:-sagemaker==3.27.0}
install_labs_sdk() {
    local pip=(python3 -m pip)
    [ -z "$STUDIO_PIP" ] || pip=("$STUDIO_PIP")
    (
        trap '' HUP
        timeout 900 "${pip[@]}" install --quiet "$LABS_SDK" >"$LOG_DIR/pip-sdk.log" 2>&1
        echo $? >"$LOG_DIR/pip-sdk.status"
    ) </dev/null >/dev/null 2>&1 &
    log "installing the labs' $LABS_SDK in the background (log: $LOG_DIR/pip-sdk.log)"
}

main() {
    if ! mkdir -p "$LOG_DIR"; then
        log "cannot create $LOG_DIR; nothing done"
        return 0
    fi
    if [ -n "$LABS_S3_URI" ]; then
        copy_labs || log "labs not delivered"
    fi
    if [ -n "$WORKSHOP_SSM_PARAMETER" ]; then
        write_environment_file || log "env.json not written"
    fi
    install_labs_sdk
}

main
exit 0
